"""Drift: the human decisions on a served model's proposals, as the monitor reads them,
and the drift alarms' episodes. Never commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

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

    async def reviewed_proposals(
        self,
        workflow_id: str,
        model_version: str,
        since: datetime,
        tier: Tier,
        limit: int,
        *,
        latest: bool = False,
    ) -> list[ReviewedProposal]:
        """The first (or, with `latest`, the latest) `limit` human final decisions since
        `since` in this tier on items the model labelled `model_version` proposed (their
        `modelVersion`, e.g. "v3"), oldest first. Each person's decision counts, a vote
        too; undone decisions and canaries do not."""
        c = decisions_t.c
        order = (c.created_at.desc(), c.seq.desc()) if latest else (c.created_at, c.seq)
        query = (
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
            .order_by(*order)
            .limit(limit)
        )
        found = [
            ReviewedProposal(row.id, row.verdict == Verdict.APPROVE, row.confidence, row.created_at)
            for row in await self._execute(query)
        ]
        return found[::-1] if latest else found


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
