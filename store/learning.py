"""Models, theme reports and learning data: the repository used by jobs, and read queries."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from domain.clock import as_utc
from domain.learning import (
    CORRECTIONS,
    FeedbackReport,
    ModelKind,
    ModelVersion,
    ThemeReport,
    feedback_message,
)
from store.learning_rows import HUMAN_FINAL as HUMAN_FINAL  # store.drift's, from here
from store.learning_rows import (
    LearningRow,
    PayloadJson,
    decode_batch,
    learning_query,
    raw_learning_query,
)
from store.models import VERSION_ONLY
from store.queries import Reads
from store.standing import (
    standing_decisions_on_real_items,
    standing_overrides,
    visible_recommendations,
)
from store.tables import (
    ModelVersionRow,
    ThemeReportRow,
    decisions_t,
    models_t,
    overrides_t,
    recs_t,
    theme_reports_t,
    workflows_t,
)

LEARNING_BATCH = 5000  # rows per batch when the decision log is streamed for training


class LearningReads(Reads):
    """Read queries for models, reports and the learning data."""

    @classmethod
    def over(cls, model: Reads) -> LearningReads:
        return cls(model.session, model._lock)

    async def models_of(self, workflow_ids: Iterable[str]) -> dict[str, list[ModelVersion]]:
        rows = await self._rows(
            sa.select(ModelVersionRow)
            .options(*VERSION_ONLY)
            .where(models_t.c.workflow_id.in_(set(workflow_ids)))
            .order_by(models_t.c.workflow_id, models_t.c.version.desc())
        )
        found: dict[str, list[ModelVersion]] = {}
        for row in rows:
            found.setdefault(row.workflow_id, []).append(row.to_domain())
        return found

    async def model(self, model_id: str) -> ModelVersion | None:
        rows = await self._rows(
            sa.select(ModelVersionRow).options(*VERSION_ONLY).where(models_t.c.id == model_id)
        )
        return rows[0].to_domain() if rows else None

    async def latest_theme_report(self, workflow_id: str) -> ThemeReport | None:
        rows = await self._rows(
            sa.select(ThemeReportRow)
            .where(theme_reports_t.c.workflow_id == workflow_id)
            .order_by(theme_reports_t.c.created_at.desc(), theme_reports_t.c.id.desc())
            .limit(1)
        )
        return rows[0].to_domain() if rows else None

    async def theme_report(self, report_id: str) -> ThemeReport | None:
        rows = await self._rows(sa.select(ThemeReportRow).where(theme_reports_t.c.id == report_id))
        return rows[0].to_domain() if rows else None

    async def corrections_between(
        self, workflow_id: str, start: datetime, end: datetime | None
    ) -> int:
        """Human rejects, overrides and edits (not undone) decided in [start, end)."""
        c = decisions_t.c
        query = standing_decisions_on_real_items(sa.func.count()).where(
            c.workflow_id == workflow_id,
            c.automated.is_(False),
            c.verdict.in_([v.value for v in CORRECTIONS]),
            c.created_at >= start,
        )
        if end is not None:
            query = query.where(c.created_at < end)
        result = await self._execute(query)
        return int(result.scalar_one())

    async def learning_rows(self, workflow_id: str, limit: int | None = None) -> list[Any]:
        """For each item, its latest human final decision that was not undone, oldest first:
        (payload, proposed_action, verdict, final_action, decided_at, item_id)
        (store.learning_rows)."""
        query = learning_query(workflow_id)
        if limit is not None:
            query = query.limit(limit)
        return list(await self._execute(query))

    async def stream_learning_rows(
        self, workflow_id: str, batch: int = LEARNING_BATCH
    ) -> AsyncIterator[list[LearningRow]]:
        """`learning_rows` as tuples, in lists of at most `batch` rows, fetched as they are
        consumed, so that the retraining job never holds the whole decision log (a
        server-side cursor on PostgreSQL); each list's columns are read untyped and decoded
        together (store.learning_rows.decode_batch). The session is busy until the
        iteration ends."""
        query = raw_learning_query(workflow_id).execution_options(yield_per=batch)
        async with self._lock:
            result = await self.session.stream(query)
            try:
                async for rows in result.partitions(batch):
                    yield decode_batch(rows)
            finally:
                await result.close()

    async def overrides_since(self, workflow_id: str, since: datetime) -> list[Any]:
        """(id, reason, proposed_action, chosen_action, payload) of the window's overrides."""
        query = (
            standing_overrides(
                overrides_t.c.id,
                overrides_t.c.reason,
                overrides_t.c.proposed_action,
                overrides_t.c.chosen_action,
                sa.type_coerce(recs_t.c.payload, PayloadJson()).label("payload"),
            )
            .join(recs_t, recs_t.c.id == overrides_t.c.recommendation_id)
            .where(
                overrides_t.c.workflow_id == workflow_id,
                overrides_t.c.created_at >= since,
            )
            .order_by(overrides_t.c.created_at, overrides_t.c.id)
        )
        return list(await self._execute(query))

    async def decided_since(
        self, workflow_id: str, since: datetime, limit: int
    ) -> list[tuple[dict[str, Any], str]]:
        """Items decided in the window without an override (the themes' contrast): each
        one's payload and proposed action, newest first."""
        c = recs_t.c
        overridden = standing_overrides(overrides_t.c.recommendation_id).where(
            overrides_t.c.recommendation_id == c.id
        )
        result = await self._execute(
            visible_recommendations(
                sa.type_coerce(c.payload, PayloadJson()).label("payload"), c.proposed_action
            )
            .where(
                c.workflow_id == workflow_id,
                c.decided_at >= since,
                ~sa.exists(overridden),
            )
            .order_by(c.decided_at.desc())
            .limit(limit)
        )
        return [(dict(row.payload), row.proposed_action) for row in result]

    async def workflow_created_at(self, workflow_id: str) -> datetime | None:
        row = (
            await self._execute(
                sa.select(workflows_t.c.created_at).where(workflows_t.c.id == workflow_id)
            )
        ).first()
        return as_utc(row.created_at) if row else None

    async def feedback_report(self, workflow_id: str) -> FeedbackReport | None:
        """What the latest promotion changed, in numbers and words; None before the first."""
        promoted = [
            m
            for m in (await self.models_of([workflow_id])).get(workflow_id, [])
            if m.kind is ModelKind.CLASSIFIER and m.promoted_at is not None
        ]
        if not promoted:
            return None
        promoted.sort(key=lambda m: m.promoted_at or m.created_at)
        latest = promoted[-1]
        previous = promoted[-2] if len(promoted) > 1 else None
        assert latest.promoted_at is not None
        start = (previous.promoted_at if previous else None) or await self.workflow_created_at(
            workflow_id
        )
        assert start is not None
        corrections = await self.corrections_between(workflow_id, start, latest.promoted_at)
        report = await self.latest_theme_report(workflow_id)
        top = report.themes[0] if report and report.themes else None
        if previous is not None:
            added = [f for f in latest.features if f not in set(previous.features)]
        else:
            suggested = {t.suggested_feature for t in (report.themes if report else [])}
            added = [f for f in latest.features if f in suggested]
        metrics = latest.metrics
        before = metrics.baseline_accuracy if metrics else None
        after = metrics.accuracy if metrics else None
        return FeedbackReport(
            workflow_id=workflow_id,
            period_start=start,
            period_end=latest.promoted_at,
            corrections=corrections,
            top_theme=top,
            accuracy_before=before,
            accuracy_after=after,
            added_features=added,
            message=feedback_message(latest.promoted_at, corrections, top, before, after, added),
        )
