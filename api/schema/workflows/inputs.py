"""EscalationPolicyInput and WorkflowInput."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry import UNSET
from strawberry.types.base import get_object_definition

from api.schema.common.enums import FloorAction, ReviewerRole, WorkflowKind


@strawberry.input
class EscalationPolicyInput:
    """Fields left out keep their current values; an explicit null clears a nullable one."""

    auto_approve_at: float | None = strawberry.UNSET
    analyst_at: float | None = strawberry.UNSET
    senior_at: float | None = strawberry.UNSET
    below_floor: FloorAction | None = strawberry.UNSET
    analyst_sla_seconds: int | None = strawberry.UNSET
    senior_sla_seconds: int | None = strawberry.UNSET
    high_stakes_at: float | None = strawberry.UNSET
    audit_sample_rate: float | None = strawberry.UNSET
    min_dwell_ms: int | None = strawberry.UNSET
    canary_rate: float | None = strawberry.UNSET
    max_daily_decisions_per_reviewer: int | None = strawberry.UNSET
    undo_seconds: int | None = strawberry.UNSET
    reviews_required: int | None = strawberry.UNSET
    agreement_required: int | None = strawberry.field(
        default=strawberry.UNSET, description="null: a majority of reviewsRequired."
    )
    high_stakes_reviews_required: int | None = strawberry.UNSET
    blind_review: bool | None = strawberry.UNSET
    note: str | None = strawberry.UNSET

    def changes(self) -> dict[str, Any]:
        """The fields the caller set, by their domain (snake_case) names."""
        names = (f.python_name for f in get_object_definition(self, strict=True).fields)
        return {name: getattr(self, name) for name in names if getattr(self, name) is not UNSET}


@strawberry.input
class WorkflowInput:
    key: str
    name: str
    kind: WorkflowKind
    reviewer_role: ReviewerRole
    actions: list[str]
    score_label: str | None = None
    policy: EscalationPolicyInput | None = None
