"""Workflow, EscalationPolicy, QueueCount."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from api.schema.common.enums import (
    FloorAction,
    RecommendationStatus,
    ReviewerRole,
    Tier,
    WorkflowKind,
)
from api.schema.common.types import Info, Node
from api.schema.loading import now_or_later
from api.schema.users.types import User, user_or_none
from domain import model
from domain.learning import ModelKind, ModelStatus
from domain.policy import EscalationPolicy as DomainPolicy

if TYPE_CHECKING:
    from api.schema.learning.types import ModelVersion
    from api.schema.teams.types import Team

ModelVersionRef = Annotated["ModelVersion", strawberry.lazy("api.schema.learning.types")]
REASON_SUGGESTIONS = 5


@strawberry.type(name="EscalationPolicy")
class EscalationPolicy:
    version: int
    auto_approve_at: float
    analyst_at: float
    senior_at: float
    below_floor: FloorAction
    analyst_sla_seconds: int
    senior_sla_seconds: int
    high_stakes_at: float | None
    audit_sample_rate: float
    min_dwell_ms: int
    canary_rate: float
    max_daily_decisions_per_reviewer: int | None
    undo_seconds: int
    reviews_required: int = strawberry.field(
        description="Independent human reviews per reviewed item (1: version 1 behaviour)."
    )
    agreement_required: int = strawberry.field(
        description="How many of them must agree on the outcome (default: a majority)."
    )
    agreement_is_majority: bool = strawberry.field(
        description="True when agreementRequired follows a majority of reviewsRequired (set "
        "as null), false when it was set to a number."
    )
    high_stakes_reviews_required: int = strawberry.field(
        description="Four eyes: distinct reviewers who must agree on items at or above "
        "highStakesAt (the item's submitter may not be one of them)."
    )
    blind_review: bool = strawberry.field(
        description="Reviewers do not see others' votes before casting their own."
    )
    note: str | None
    changed_at: datetime
    _changed_by_id: strawberry.Private[str | None]

    @strawberry.field
    def changed_by(self, info: Info) -> User | None:
        if self._changed_by_id is None:
            return None
        return now_or_later(info.context.loaders.user, self._changed_by_id, user_or_none)

    @classmethod
    def from_domain(cls, p: DomainPolicy) -> EscalationPolicy:
        assert p.changed_at is not None
        return cls(
            version=p.version,
            auto_approve_at=p.auto_approve_at,
            analyst_at=p.analyst_at,
            senior_at=p.senior_at,
            below_floor=p.below_floor,
            analyst_sla_seconds=p.analyst_sla_seconds,
            senior_sla_seconds=p.senior_sla_seconds,
            high_stakes_at=p.high_stakes_at,
            audit_sample_rate=p.audit_sample_rate,
            min_dwell_ms=p.min_dwell_ms,
            canary_rate=p.canary_rate,
            max_daily_decisions_per_reviewer=p.max_daily_decisions_per_reviewer,
            undo_seconds=p.undo_seconds,
            reviews_required=p.reviews_required,
            agreement_required=p.agreement,
            agreement_is_majority=p.agreement_required is None,
            high_stakes_reviews_required=p.high_stakes_reviews_required,
            blind_review=p.blind_review,
            note=p.note,
            changed_at=p.changed_at,
            _changed_by_id=p.changed_by_id,
        )


@strawberry.type
class QueueCount:
    tier: Tier
    status: RecommendationStatus
    count: int


@strawberry.type(name="Workflow")
class Workflow(Node):
    id: strawberry.ID
    key: str
    name: str
    kind: WorkflowKind
    reviewer_role: ReviewerRole
    actions: list[str]
    score_label: str | None
    created_at: datetime
    _workflow: strawberry.Private[model.Workflow]

    @strawberry.field
    def policy(self) -> EscalationPolicy:
        return EscalationPolicy.from_domain(self._workflow.policy)

    @strawberry.field
    async def policy_history(self, info: Info) -> list[EscalationPolicy]:
        history = await info.context.loaders.policy_history.load(self._workflow.id)
        return [EscalationPolicy.from_domain(p) for p in history]

    @strawberry.field(
        description="Who reviews it; empty: every user of a fitting role (version 1 behaviour)."
    )
    async def teams(
        self, info: Info
    ) -> list[Annotated[Team, strawberry.lazy("api.schema.teams.types")]]:
        from api.schema.teams.types import load_teams

        return await load_teams(info, self._workflow.team_ids)

    @strawberry.field(description="Open items (and NEEDS_DATA) by tier and status.")
    def queue_counts(self, info: Info) -> list[QueueCount]:
        return now_or_later(
            info.context.loaders.queue_counts,
            self._workflow.id,
            lambda counts: [QueueCount(tier=t, status=s, count=n) for t, s, n in counts],
        )

    @strawberry.field(description="The ACTIVE classifier, which proposes for submitCases.")
    async def active_model(self, info: Info) -> ModelVersionRef | None:
        return await self._active(info, ModelKind.CLASSIFIER)

    @strawberry.field(description="The ACTIVE draft scorer (DRAFT workflows).")
    async def active_scorer(self, info: Info) -> ModelVersionRef | None:
        return await self._active(info, ModelKind.SCORER)

    @strawberry.field(description="Every model version, newest first.")
    async def models(self, info: Info) -> list[ModelVersionRef]:
        from api.schema.learning.types import ModelVersion

        found = await info.context.loaders.models_of.load(self._workflow.id)
        return [ModelVersion.from_domain(m) for m in found]

    @strawberry.field(description="Quick-pick override reasons: the latest mined theme labels.")
    async def reason_suggestions(self, info: Info) -> list[str]:
        from store.learning import LearningReads

        model = LearningReads.over(await info.context.reads())
        report = await model.latest_theme_report(self._workflow.id)
        return [t.label for t in report.themes[:REASON_SUGGESTIONS]] if report else []

    async def _active(self, info: Info, kind: ModelKind) -> ModelVersionRef | None:
        from api.schema.learning.types import ModelVersion

        found = await info.context.loaders.models_of.load(self._workflow.id)
        for m in found:
            if m.kind is kind and m.status is ModelStatus.ACTIVE:
                return ModelVersion.from_domain(m)
        return None

    @classmethod
    def from_domain(cls, w: model.Workflow) -> Workflow:
        return cls(
            id=strawberry.ID(w.id),
            key=w.key,
            name=w.name,
            kind=w.kind,
            reviewer_role=w.reviewer_role,
            actions=list(w.actions),
            score_label=w.score_label,
            created_at=w.created_at,
            _workflow=w,
        )


async def load_workflow(info: Info, workflow_id: str) -> Workflow:
    found = await info.context.loaders.workflow.load(workflow_id)
    assert found is not None, workflow_id
    return Workflow.from_domain(found)
