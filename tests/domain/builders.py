"""Plain builders for domain objects, shared by the domain tests (no database, no fixtures)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from domain.enums import (
    RecommendationStatus,
    ReviewerRole,
    Role,
    Tier,
    Verdict,
    WorkflowKind,
)
from domain.model import Claim, Decision, Draft, Recommendation, User, Workflow
from domain.policy import EscalationPolicy

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=15)
ACTIONS = ["approve_claim", "deny_claim", "escalate"]


def create_user(role: Role = Role.ANALYST, user_id: str | None = None) -> User:
    return User(
        id=user_id or f"usr_{role.value.lower()}",
        name=f"a {role.value.lower()}",
        role=role,
        created_at=NOW,
    )


def create_policy(**changes: Any) -> EscalationPolicy:
    return EscalationPolicy(**changes)


def create_workflow(
    kind: WorkflowKind = WorkflowKind.CLASSIFICATION,
    reviewer_role: ReviewerRole = ReviewerRole.EXPERT,
    policy: EscalationPolicy | None = None,
) -> Workflow:
    return Workflow(
        id="wf_claims",
        key="claims",
        name="Claims",
        kind=kind,
        reviewer_role=reviewer_role,
        actions=list(ACTIONS),
        score_label=None,
        created_at=NOW,
        policy=policy or EscalationPolicy(version=3),
    )


def create_recommendation(
    confidence: float = 0.8,
    *,
    tier: Tier = Tier.ANALYST_REVIEW,
    status: RecommendationStatus = RecommendationStatus.PENDING,
    stakes: float | None = None,
    proposed_action: str = "approve_claim",
    draft: str | None = None,
    payload: dict[str, Any] | None = None,
    flagged: bool = False,
) -> Recommendation:
    return Recommendation(
        id="rec_1",
        workflow_id="wf_claims",
        payload=payload if payload is not None else {"amount": 120},
        proposed_action=proposed_action,
        confidence=confidence,
        created_at=NOW,
        stakes=stakes,
        draft=Draft(original=draft, content=draft, predicted_score=0.7) if draft else None,
        tier=tier,
        status=status,
        flagged=flagged,
    )


def create_claimed_recommendation(
    reviewer: User, claimed_at: datetime = NOW, **kwargs: Any
) -> Recommendation:
    rec = create_recommendation(**kwargs)
    rec.claim_for(reviewer, claimed_at, LEASE)
    return rec


def create_expired_claim(reviewer_id: str, claimed_at: datetime = NOW) -> Claim:
    return Claim(reviewer_id=reviewer_id, claimed_at=claimed_at, expires_at=claimed_at + LEASE)


def create_decision(number: int = 1, **changes: Any) -> Decision:
    fields: dict[str, Any] = {
        "id": f"dec_{number}",
        "workflow_id": "wf_claims",
        "recommendation_id": f"rec_{number}",
        "verdict": Verdict.APPROVE,
        "automated": False,
        "actor_id": "usr_analyst",
        "proposed_action": "approve_claim",
        "final_action": "approve_claim",
        "confidence": 0.81,
        "tier": Tier.ANALYST_REVIEW,
        "policy_version": 1,
        "created_at": NOW + timedelta(minutes=number),
        "reason": f"looks fine ({number})",
        "reason_tags": ["routine"],
        "dwell_ms": 4_000 + number,
    }
    fields.update(changes)
    return Decision(**fields)
