"""Who may do what: roles against tiers, and reviewer roles against verdicts."""

from __future__ import annotations

from domain.enums import (
    RecommendationStatus,
    ReviewerRole,
    Role,
    Tier,
    Verdict,
    WorkflowKind,
)
from domain.errors import ForbiddenError

_DECIDABLE_TIERS: dict[Role, frozenset[Tier]] = {
    Role.SERVICE: frozenset(),
    Role.ANALYST: frozenset({Tier.ANALYST_REVIEW}),
    Role.SENIOR: frozenset({Tier.ANALYST_REVIEW, Tier.SENIOR_REVIEW}),
    Role.ADMIN: frozenset(Tier),
}

_VISIBLE_TIERS: dict[Role, frozenset[Tier]] = {
    Role.SERVICE: frozenset(Tier),
    Role.ANALYST: frozenset({Tier.AUTO_APPROVE, Tier.ANALYST_REVIEW}),
    Role.SENIOR: frozenset(Tier),
    Role.ADMIN: frozenset(Tier),
}

_VERDICTS_BY_REVIEWER_ROLE: dict[ReviewerRole, frozenset[Verdict]] = {
    ReviewerRole.VERIFIER: frozenset({Verdict.APPROVE, Verdict.REJECT, Verdict.FLAG}),
    ReviewerRole.EDITOR: frozenset({Verdict.APPROVE, Verdict.REJECT, Verdict.FLAG, Verdict.EDIT}),
    ReviewerRole.EXPERT: frozenset(
        {Verdict.APPROVE, Verdict.REJECT, Verdict.FLAG, Verdict.EDIT, Verdict.OVERRIDE}
    ),
}

REVIEWER_ROLES = frozenset({Role.ANALYST, Role.SENIOR, Role.ADMIN})


def decidable_tiers(role: Role) -> frozenset[Tier]:
    """Tiers whose queued items this role may claim and decide."""
    return _DECIDABLE_TIERS[role]


def visible_tiers(role: Role) -> frozenset[Tier]:
    """Tiers whose items this role may read."""
    return _VISIBLE_TIERS[role]


def may_decide(role: Role, tier: Tier, status: RecommendationStatus) -> bool:
    if status is RecommendationStatus.NEEDS_DATA:
        return role in (Role.SENIOR, Role.ADMIN)
    return tier in _DECIDABLE_TIERS[role]


def allowed_verdicts(reviewer_role: ReviewerRole, kind: WorkflowKind) -> frozenset[Verdict]:
    """What the human in a workflow may do (the checklist's "name the human's role")."""
    verdicts = _VERDICTS_BY_REVIEWER_ROLE[reviewer_role]
    if kind is not WorkflowKind.DRAFT:
        verdicts = verdicts - {Verdict.EDIT}
    return verdicts


def require_role(role: Role, *allowed: Role, doing: str) -> None:
    """Raise ForbiddenError unless `role` is one of `allowed`."""
    if role not in allowed:
        names = ", ".join(r.value for r in allowed)
        raise ForbiddenError(f"{doing} needs the role {names}; you are {role.value}")
