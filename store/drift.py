"""Drift: the human decisions on a served model's proposals, as the monitor reads them,
and the drift alarms' episodes. Never commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from domain.drift import DriftAlarm, ReviewedProposal
from domain.enums import Tier, Verdict
from store.learning import HUMAN_FINAL
from store.loading import load_all
from store.queries import Reads
from store.standing import standing_decisions_on_real_items
from store.tables import DriftAlarmRow, decisions_t, drift_alarms_t, recs_t, values_of


class DriftReads(Reads):
    """What the drift monitor reads, on a read session."""

    def _reviewed(
        self, workflow_id: str, model_version: str, since: datetime, tier: Tier
    ) -> sa.Select[Any]:
        """Standing human final decisions since `since` in this tier on items the model
        labelled `model_version` proposed: the rows to read, before their columns."""
        c = decisions_t.c
        return (
            standing_decisions_on_real_items(c.id, c.verdict, c.confidence, c.created_at)
            .join(recs_t, recs_t.c.id == c.recommendation_id)
            .where(
                c.workflow_id == workflow_id,
                c.automated.is_(False),
                c.verdict.in_(HUMAN_FINAL),
                c.tier == tier.value,
                c.created_at >= since,
                recs_t.c.model_version == model_version,
                recs_t.c.created_at >= since,
            )
        )

    async def reviewed_count(
        self, workflow_id: str, model_version: str, since: datetime, tier: Tier
    ) -> int:
        """How many decisions `reviewed_proposals` could read."""
        rows = self._reviewed(workflow_id, model_version, since, tier).subquery()
        found = await self._execute(sa.select(sa.func.count()).select_from(rows))
        return int(found.scalar_one())

    async def reviewed_proposals(
        self,
        workflow_id: str,
        model_version: str,
        since: datetime,
        tier: Tier,
        limit: int,
        *,
        offset: int = 0,
    ) -> list[ReviewedProposal]:
        """`limit` human final decisions since `since` in this tier on items the model
        labelled `model_version` proposed (their `modelVersion`, e.g. "v3"), oldest
        first, from the `offset`-th on. Each person's decision counts, a vote too;
        undone decisions and canaries do not."""
        c = decisions_t.c
        query = (
            self._reviewed(workflow_id, model_version, since, tier)
            .order_by(c.created_at, c.seq)
            .offset(offset)
            .limit(limit)
        )
        return [
            ReviewedProposal(row.id, row.verdict == Verdict.APPROVE, row.confidence, row.created_at)
            for row in await self._execute(query)
        ]


class SqlDriftAlarms:
    """The drift alarms' episodes: at most one open per model and tier (a unique index)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def open_of(self, workflow_id: str) -> list[DriftAlarm]:
        """The workflow's open episodes, of any of its models."""
        rows = await load_all(
            self.session,
            sa.select(DriftAlarmRow).where(
                drift_alarms_t.c.workflow_id == workflow_id,
                drift_alarms_t.c.cleared_at.is_(None),
            ),
        )
        return [row.to_domain() for row in rows]

    async def add(self, alarms: Sequence[DriftAlarm]) -> None:
        """Open these episodes; an IntegrityError when one is open already (a race)."""
        if alarms:
            await self.session.execute(
                drift_alarms_t.insert(), [values_of(DriftAlarmRow.of(a)) for a in alarms]
            )

    async def clear(self, alarms: Sequence[DriftAlarm]) -> None:
        """End these episodes at their `cleared_at`."""
        for alarm in alarms:
            await self.session.execute(
                drift_alarms_t.update()
                .where(drift_alarms_t.c.id == alarm.id)
                .values(cleared_at=alarm.cleared_at)
            )
