"""Who may decide and see what: domain/rights.py."""

from __future__ import annotations

import pytest

from domain.enums import RecommendationStatus, ReviewerRole, Role, Tier, Verdict, WorkflowKind
from domain.errors import ForbiddenError
from domain.rights import (
    REVIEWER_ROLES,
    allowed_verdicts,
    decidable_tiers,
    may_decide,
    require_role,
    visible_tiers,
)

Status = RecommendationStatus

DECIDES = {
    Role.SERVICE: set(),
    Role.ANALYST: {Tier.ANALYST_REVIEW},
    Role.SENIOR: {Tier.ANALYST_REVIEW, Tier.SENIOR_REVIEW},
    Role.ADMIN: set(Tier),
}


@pytest.mark.parametrize("status", [Status.PENDING, Status.CLAIMED, Status.FLAGGED])
@pytest.mark.parametrize("tier", list(Tier))
@pytest.mark.parametrize("role", list(Role))
def test_each_role_decides_exactly_its_tiers(role, tier, status):
    assert may_decide(role, tier, status) is (tier in DECIDES[role])


def test_an_analyst_decides_only_analyst_review_items():
    assert decidable_tiers(Role.ANALYST) == {Tier.ANALYST_REVIEW}


def test_a_senior_decides_analyst_and_senior_review_items():
    assert decidable_tiers(Role.SENIOR) == {Tier.ANALYST_REVIEW, Tier.SENIOR_REVIEW}


def test_an_admin_decides_every_tier():
    assert decidable_tiers(Role.ADMIN) == set(Tier)


def test_a_service_decides_nothing():
    assert decidable_tiers(Role.SERVICE) == frozenset()
    assert not any(may_decide(Role.SERVICE, tier, Status.PENDING) for tier in Tier)


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.SERVICE, False),
        (Role.ANALYST, False),
        (Role.SENIOR, True),
        (Role.ADMIN, True),
    ],
)
@pytest.mark.parametrize("tier", list(Tier))
def test_items_waiting_for_data_are_decided_by_seniors_and_admins_in_any_tier(role, allowed, tier):
    assert may_decide(role, tier, Status.NEEDS_DATA) is allowed


def test_an_analyst_sees_auto_approved_and_analyst_review_items_only():
    assert visible_tiers(Role.ANALYST) == {Tier.AUTO_APPROVE, Tier.ANALYST_REVIEW}


@pytest.mark.parametrize("role", [Role.SENIOR, Role.ADMIN, Role.SERVICE])
def test_other_roles_see_every_tier(role):
    assert visible_tiers(role) == set(Tier)


def test_every_tier_a_role_decides_is_one_it_can_see():
    for role in Role:
        assert decidable_tiers(role) <= visible_tiers(role), role


def test_services_are_not_reviewers():
    assert Role.SERVICE not in REVIEWER_ROLES
    assert {Role.ANALYST, Role.SENIOR, Role.ADMIN} == REVIEWER_ROLES


@pytest.mark.parametrize(
    ("reviewer_role", "kind", "verdicts"),
    [
        (
            ReviewerRole.VERIFIER,
            WorkflowKind.CLASSIFICATION,
            {Verdict.APPROVE, Verdict.REJECT, Verdict.FLAG},
        ),
        (
            ReviewerRole.VERIFIER,
            WorkflowKind.DRAFT,
            {Verdict.APPROVE, Verdict.REJECT, Verdict.FLAG},
        ),
        (
            ReviewerRole.EDITOR,
            WorkflowKind.DRAFT,
            {Verdict.APPROVE, Verdict.REJECT, Verdict.FLAG, Verdict.EDIT},
        ),
        (
            ReviewerRole.EDITOR,
            WorkflowKind.CLASSIFICATION,
            {Verdict.APPROVE, Verdict.REJECT, Verdict.FLAG},
        ),
        (
            ReviewerRole.EXPERT,
            WorkflowKind.CLASSIFICATION,
            {Verdict.APPROVE, Verdict.REJECT, Verdict.FLAG, Verdict.OVERRIDE},
        ),
        (
            ReviewerRole.EXPERT,
            WorkflowKind.DRAFT,
            {Verdict.APPROVE, Verdict.REJECT, Verdict.FLAG, Verdict.EDIT, Verdict.OVERRIDE},
        ),
    ],
)
def test_each_reviewer_role_is_offered_its_verdicts(reviewer_role, kind, verdicts):
    assert allowed_verdicts(reviewer_role, kind) == verdicts


@pytest.mark.parametrize("reviewer_role", list(ReviewerRole))
@pytest.mark.parametrize("kind", list(WorkflowKind))
def test_no_reviewer_is_offered_the_systems_verdicts(reviewer_role, kind):
    offered = allowed_verdicts(reviewer_role, kind)

    assert Verdict.REQUEST_MORE_DATA not in offered
    assert Verdict.UNDO not in offered


def test_require_role_lets_an_allowed_role_through():
    require_role(Role.ADMIN, Role.SERVICE, Role.ADMIN, doing="submitting recommendations")


def test_require_role_refuses_other_roles_naming_what_was_needed():
    with pytest.raises(ForbiddenError) as raised:
        require_role(Role.ANALYST, Role.SERVICE, Role.ADMIN, doing="submitting recommendations")

    assert "SERVICE, ADMIN" in raised.value.message
    assert "ANALYST" in raised.value.message
