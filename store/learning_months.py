"""The counts behind learningByMonth (domain.learning_months), per calendar month: four
grouped reads, each one statement over the months together. Never commits."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from domain import learning_months
from domain.analytics import Tally
from domain.enums import Tier, Verdict
from domain.learning import ModelKind
from domain.learning_months import LearningMonth, MonthCounts
from domain.model import Workflow
from store.analytics_queries import _counted, _tally, _when
from store.models import VERSION_ONLY
from store.queries import Reads
from store.standing import decided_its_item, visible_recommendations
from store.tables import ModelVersionRow, decisions_t, drift_alarms_t, models_t, recs_t

d = decisions_t.c


def _month_of(column: Any, starts: Sequence[datetime]) -> Any:
    """The index of the month (into `starts`) a timestamp column falls in; rows outside
    [starts[0], starts[-1]) are filtered out by the callers."""
    if len(starts) == 2:
        return sa.literal(0)
    return sa.case(
        *[(column < end, index) for index, end in enumerate(starts[1:-1])],
        else_=len(starts) - 2,
    )


class LearningMonthReads(Reads):
    """learningByMonth's reads, on a request's read session (shares its lock)."""

    @classmethod
    def over(cls, model: Reads) -> LearningMonthReads:
        return cls(model.session, model._lock)

    async def learning_by_month(
        self, workflow: Workflow, now: datetime, months: int, tiers: Collection[Tier]
    ) -> list[LearningMonth]:
        """The last `months` calendar months of the workflow, oldest first; decisions in
        `tiers` only (an analyst's scope). InvalidInputError for months outside 1..24."""
        starts = learning_months.month_starts(now, months)
        counts: dict[int, MonthCounts] = {}

        def month(index: int) -> MonthCounts:
            return counts.setdefault(int(index), MonthCounts())

        for index, automated, tally, audited, audited_ok in await self._decisions(
            workflow.id, starts, tiers
        ):
            if automated:
                month(index).automated_approvals += tally.approvals
            else:
                month(index).human.add(tally)
                month(index).audited += audited
                month(index).audited_approvals += audited_ok
        for row in await self._execute(self._submitted(workflow.id, starts)):
            month(row.month).submitted[row.model_version or ""] = int(row.items)
        for row in await self._rows(self._promoted(workflow.id, starts)):
            assert row.promoted_at is not None  # the query's condition
            month(self._index(row.promoted_at, starts)).promoted.append(row.to_domain().label)
        for (raised_at,) in await self._execute(self._alarms(workflow.id, starts)):
            month(self._index(raised_at, starts)).drift_alarms += 1
        return learning_months.learning_months(starts, counts)

    async def _decisions(
        self, workflow_id: str, starts: Sequence[datetime], tiers: Collection[Tier]
    ) -> list[tuple[int, bool, Tally, int, int]]:
        """(month, automated, counted decisions, audit samples, audit samples approved)."""
        # An audit sample counts once, by the decision that gave the item its outcome.
        sampled = sa.and_(recs_t.c.sampled_for_audit.is_(True), decided_its_item(d, recs_t.c))
        inner = (
            _counted(
                _month_of(d.created_at, starts).label("month"),
                d.automated,
                d.verdict,
                sampled.label("sampled"),
                workflow_id=workflow_id,
                since=starts[0],
                tiers=tiers,
                human_only=False,
            )
            .join(recs_t, recs_t.c.id == d.recommendation_id)
            .where(d.created_at < starts[-1])
            .subquery()
        )
        v, is_sampled = inner.c.verdict, inner.c.sampled.is_(True)
        query = sa.select(
            inner.c.month,
            inner.c.automated,
            sa.func.count().label("decisions"),
            _when(v == Verdict.APPROVE.value).label("approvals"),
            _when(v == Verdict.REJECT.value).label("rejections"),
            _when(v == Verdict.EDIT.value).label("edits"),
            _when(v == Verdict.OVERRIDE.value).label("overrides"),
            _when(is_sampled).label("audited"),
            _when(sa.and_(is_sampled, v == Verdict.APPROVE.value)).label("audited_ok"),
        ).group_by(inner.c.month, inner.c.automated)
        return [
            (
                int(row.month),
                bool(row.automated),
                _tally(row._mapping),
                int(row.audited or 0),
                int(row.audited_ok or 0),
            )
            for row in await self._execute(query)
        ]

    @staticmethod
    def _submitted(workflow_id: str, starts: Sequence[datetime]) -> sa.Select[Any]:
        """Items submitted (canaries left out) per month and proposing model version."""
        r = recs_t.c
        inner = (
            visible_recommendations(_month_of(r.created_at, starts).label("month"), r.model_version)
            .where(
                r.workflow_id == workflow_id,
                r.created_at >= starts[0],
                r.created_at < starts[-1],
            )
            .subquery()
        )
        return sa.select(
            inner.c.month, inner.c.model_version, sa.func.count().label("items")
        ).group_by(inner.c.month, inner.c.model_version)

    @staticmethod
    def _promoted(workflow_id: str, starts: Sequence[datetime]) -> sa.Select[ModelVersionRow]:
        """Classifier versions promoted within the months, whatever their status now."""
        m = models_t.c
        return (
            sa.select(ModelVersionRow)
            .options(*VERSION_ONLY)
            .where(
                m.workflow_id == workflow_id,
                m.kind == ModelKind.CLASSIFIER.value,
                m.promoted_at >= starts[0],
                m.promoted_at < starts[-1],
            )
            .order_by(m.promoted_at, m.version)
        )

    @staticmethod
    def _alarms(workflow_id: str, starts: Sequence[datetime]) -> sa.Select[Any]:
        a = drift_alarms_t.c
        return sa.select(a.raised_at).where(
            a.workflow_id == workflow_id, a.raised_at >= starts[0], a.raised_at < starts[-1]
        )

    @staticmethod
    def _index(moment: datetime, starts: Sequence[datetime]) -> int:
        return max(i for i, start in enumerate(starts[:-1]) if start <= moment)
