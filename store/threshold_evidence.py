"""The evidence recommendThreshold rests on: the window's items of the model that proposes
now, by stratum and confidence bucket, with their human labels (domain.thresholds says
what a stratum and a label are). Counted by the database, one row per (stratum, bucket).

Every statement starts from store/standing.py's base selects: canaries are left out,
and undone decisions neither label an item nor mark how the ladder handled it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from domain import analytics, thresholds
from domain.enums import Verdict, Window
from domain.learning import ModelKind
from domain.model import Workflow
from domain.thresholds import Bucket, Stratum, ThresholdEvidence, ThresholdRecommendation
from store.models import active_models
from store.queries import Reads
from store.standing import gives_the_outcome, standing_decisions, visible_recommendations
from store.tables import decisions_t, models_t, recs_t

d = decisions_t.c
r = recs_t.c
_LABELS = [v.value for v in thresholds.LABEL_VERDICTS]
_BELOW_FLOOR = [Verdict.REJECT.value, Verdict.REQUEST_MORE_DATA.value]


def _automated(verdicts: list[str]) -> sa.Exists:
    """Whether the ladder itself decided the item (a correlated EXISTS over recs_t)."""
    return sa.exists(
        standing_decisions(d.id).where(
            d.recommendation_id == r.id, d.automated.is_(True), d.verdict.in_(verdicts)
        )
    )


def _stratum() -> Any:
    """How the ladder handled the item: audited stratum when it was (or would have been)
    auto-approved, unreviewed when it decided the item below the floor, else reviewed."""
    return sa.case(
        (
            sa.or_(r.sampled_for_audit.is_(True), _automated([Verdict.APPROVE.value])),
            Stratum.AUDITED.value,
        ),
        (_automated(_BELOW_FLOOR), Stratum.UNREVIEWED.value),
        else_=Stratum.REVIEWED.value,
    )


def _bucket(candidates: Sequence[float]) -> Any:
    """The index in `candidates` (highest first) of the item's bucket; len(candidates)
    below them all."""
    return sa.case(
        *[(r.confidence >= at, index) for index, at in enumerate(candidates)],
        else_=len(candidates),
    )


def _labels() -> Any:
    """Each item's latest human labelling decision that was not undone (rank 1)."""
    return (
        standing_decisions(
            d.recommendation_id,
            d.verdict,
            sa.func.row_number()
            .over(partition_by=d.recommendation_id, order_by=d.seq.desc())
            .label("rank"),
        )
        .where(d.automated.is_(False), d.verdict.in_(_LABELS), gives_the_outcome())
        .subquery()
    )


class ThresholdReads(Reads):
    """What recommendThreshold reads, over a request's read session (shares its lock)."""

    @classmethod
    def over(cls, model: Reads) -> ThresholdReads:
        return cls(model.session, model._lock)

    async def proposing_version(self, workflow_id: str) -> str | None:
        """The model version that proposes now: the ACTIVE classifier's ("v3", as scoring
        writes it on items), else the modelVersion last submitted (None if none was)."""
        active = await self._rows(
            active_models(ModelKind.CLASSIFIER).where(models_t.c.workflow_id == workflow_id)
        )
        if active:
            return active[0].to_domain().label
        row = (
            await self._execute(
                visible_recommendations(r.model_version)
                .where(r.workflow_id == workflow_id)
                .order_by(r.created_at.desc(), r.id.desc())
                .limit(1)
            )
        ).first()
        return None if row is None else row.model_version

    async def threshold_evidence(
        self,
        workflow: Workflow,
        window: Window,
        now: datetime,
        candidates: Sequence[float] = thresholds.CANDIDATES,
    ) -> ThresholdEvidence:
        """The window's items (created since its start) of the proposing model, by stratum
        and bucket, with their labels; high-stakes items left out of the buckets (they are
        never auto-approved) but counted in `total_items`."""
        version = await self.proposing_version(workflow.id)
        policy = workflow.policy
        of_model = r.model_version.is_(None) if version is None else r.model_version == version
        window_items = (
            r.workflow_id == workflow.id,
            r.created_at >= analytics.window_since(window, now),
            of_model,
        )
        total = (
            await self._execute(visible_recommendations(sa.func.count()).where(*window_items))
        ).scalar_one()
        labels = _labels()
        rows = visible_recommendations(
            _stratum().label("stratum"),
            _bucket(candidates).label("bucket"),
            labels.c.verdict,
        ).outerjoin(labels, sa.and_(labels.c.recommendation_id == r.id, labels.c.rank == 1))
        rows = rows.where(*window_items)
        if policy.high_stakes_at is not None:
            rows = rows.where(sa.or_(r.stakes.is_(None), r.stakes < policy.high_stakes_at))
        inner = rows.subquery()
        verdict = inner.c.verdict
        query = sa.select(
            inner.c.stratum,
            inner.c.bucket,
            sa.func.count(),
            sa.func.count(verdict),
            sa.func.sum(sa.case((verdict != Verdict.APPROVE.value, 1), else_=0)),
        ).group_by(inner.c.stratum, inner.c.bucket)
        buckets = [
            Bucket(
                Stratum(stratum),
                candidates[index] if index < len(candidates) else 0.0,
                int(items),
                int(labelled),
                int(wrong or 0),
            )
            for stratum, index, items, labelled, wrong in await self._execute(query)
        ]
        buckets.sort(key=lambda b: (-b.at, b.stratum.value))
        return ThresholdEvidence(
            tuple(buckets),
            int(total),
            version,
            policy.auto_approve_at,
            policy.audit_sample_rate,
        )

    async def recommend_threshold(
        self,
        workflow: Workflow,
        window: Window,
        now: datetime,
        max_error: float,
        confidence_level: float,
    ) -> ThresholdRecommendation:
        """domain.thresholds.recommend over the window's evidence (targets already valid)."""
        evidence = await self.threshold_evidence(workflow, window, now)
        return thresholds.recommend(evidence, max_error, confidence_level)
