"""The escalation ladder: EscalationPolicy.tier_for and Recommendation.route."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.enums import FloorAction, RecommendationStatus, Tier, Verdict
from domain.policy import EscalationPolicy
from tests.domain.builders import NOW, create_policy, create_recommendation

Status = RecommendationStatus


# ------------------------------------------------------------------ tier_for


def test_the_default_policy_has_thresholds_0_90_0_70_and_0_50():
    policy = EscalationPolicy()

    assert (policy.auto_approve_at, policy.analyst_at, policy.senior_at) == (0.90, 0.70, 0.50)
    assert policy.below_floor is FloorAction.REJECT
    assert policy.high_stakes_at is None


@pytest.mark.parametrize(
    ("confidence", "tier"),
    [
        (1.0, Tier.AUTO_APPROVE),
        (0.90, Tier.AUTO_APPROVE),
        (0.8999, Tier.ANALYST_REVIEW),
        (0.70, Tier.ANALYST_REVIEW),
        (0.6999, Tier.SENIOR_REVIEW),
        (0.50, Tier.SENIOR_REVIEW),
        (0.4999, Tier.BELOW_FLOOR),
        (0.0, Tier.BELOW_FLOOR),
    ],
)
def test_the_default_ladder_puts_each_confidence_in_its_tier(confidence, tier):
    assert EscalationPolicy().tier_for(confidence) is tier


def test_a_confidence_of_exactly_the_threshold_is_auto_approved():
    policy = create_policy(auto_approve_at=0.8, analyst_at=0.6, senior_at=0.4)

    assert policy.tier_for(0.8) is Tier.AUTO_APPROVE
    assert policy.tier_for(0.7999) is Tier.ANALYST_REVIEW


def test_custom_thresholds_move_the_boundaries():
    policy = create_policy(auto_approve_at=0.95, analyst_at=0.85, senior_at=0.60)

    assert policy.tier_for(0.94) is Tier.ANALYST_REVIEW
    assert policy.tier_for(0.84) is Tier.SENIOR_REVIEW
    assert policy.tier_for(0.59) is Tier.BELOW_FLOOR


def test_high_stakes_are_never_auto_approved():
    policy = create_policy(high_stakes_at=10_000)

    assert policy.tier_for(0.99, stakes=10_000) is Tier.ANALYST_REVIEW
    assert policy.tier_for(1.0, stakes=1_000_000) is Tier.ANALYST_REVIEW


def test_stakes_just_below_the_high_stakes_mark_are_auto_approved():
    policy = create_policy(high_stakes_at=10_000)

    assert policy.tier_for(0.99, stakes=9_999.99) is Tier.AUTO_APPROVE


def test_an_item_without_stakes_is_not_high_stakes():
    policy = create_policy(high_stakes_at=10_000)

    assert policy.is_high_stakes(None) is False
    assert policy.tier_for(0.99, stakes=None) is Tier.AUTO_APPROVE


def test_without_a_high_stakes_mark_any_stakes_may_be_auto_approved():
    assert create_policy(high_stakes_at=None).tier_for(0.99, stakes=1e12) is Tier.AUTO_APPROVE


@pytest.mark.parametrize(
    ("confidence", "tier"),
    [
        (0.75, Tier.ANALYST_REVIEW),
        (0.55, Tier.SENIOR_REVIEW),
        (0.20, Tier.BELOW_FLOOR),
    ],
)
def test_high_stakes_leave_the_lower_tiers_unchanged(confidence, tier):
    policy = create_policy(high_stakes_at=10_000)

    assert policy.tier_for(confidence, stakes=50_000) is tier


# ------------------------------------------------------------------ route: automated outcomes


def test_routing_a_confident_item_approves_it_automatically():
    rec = create_recommendation(0.95, proposed_action="approve_claim")
    policy = create_policy(version=4)

    decision = rec.route(policy, NOW)

    assert rec.tier is Tier.AUTO_APPROVE
    assert rec.status is Status.APPROVED
    assert rec.final_action == "approve_claim"
    assert rec.decided_at == NOW
    assert rec.sla_due_at is None
    assert decision is not None
    assert decision.verdict is Verdict.APPROVE
    assert decision.automated is True
    assert decision.actor_id is None
    assert decision.final_action == "approve_claim"
    assert decision.proposed_action == "approve_claim"
    assert decision.tier is Tier.AUTO_APPROVE
    assert decision.policy_version == 4
    assert decision.recommendation_id == rec.id
    assert decision.workflow_id == rec.workflow_id
    assert decision.confidence == 0.95
    assert decision.created_at == NOW


def test_routing_below_the_floor_rejects_when_the_policy_says_reject():
    rec = create_recommendation(0.3)

    decision = rec.route(create_policy(below_floor=FloorAction.REJECT), NOW)

    assert rec.tier is Tier.BELOW_FLOOR
    assert rec.status is Status.REJECTED
    assert rec.final_action is None
    assert rec.decided_at == NOW
    assert rec.sla_due_at is None
    assert decision is not None
    assert decision.verdict is Verdict.REJECT
    assert decision.automated is True
    assert decision.actor_id is None
    assert decision.final_action is None
    assert decision.tier is Tier.BELOW_FLOOR


def test_routing_below_the_floor_asks_for_more_data_when_the_policy_says_so():
    rec = create_recommendation(0.3)

    decision = rec.route(create_policy(below_floor=FloorAction.REQUEST_MORE_DATA), NOW)

    assert rec.tier is Tier.BELOW_FLOOR
    assert rec.status is Status.NEEDS_DATA
    assert rec.final_action is None
    assert rec.decided_at is None
    assert decision is not None
    assert decision.verdict is Verdict.REQUEST_MORE_DATA
    assert decision.automated is True
    assert decision.actor_id is None
    assert decision.final_action is None


def test_the_automated_decision_names_the_policy_version_in_its_reason():
    rec = create_recommendation(0.93)

    decision = rec.route(create_policy(version=12), NOW)

    assert decision is not None
    assert decision.reason == "policy v12: confidence 0.93"


# ------------------------------------------------------------------ route: queues


def test_routing_to_the_analyst_queue_leaves_the_item_pending_for_four_hours():
    rec = create_recommendation(0.8)

    decision = rec.route(EscalationPolicy(), NOW)

    assert decision is None
    assert rec.tier is Tier.ANALYST_REVIEW
    assert rec.status is Status.PENDING
    assert rec.sla_due_at == NOW + timedelta(hours=4)
    assert rec.final_action is None
    assert rec.decided_at is None


def test_routing_to_the_senior_queue_leaves_the_item_pending_for_a_day():
    rec = create_recommendation(0.6)

    decision = rec.route(EscalationPolicy(), NOW)

    assert decision is None
    assert rec.tier is Tier.SENIOR_REVIEW
    assert rec.status is Status.PENDING
    assert rec.sla_due_at == NOW + timedelta(hours=24)


def test_the_sla_follows_the_policy_seconds():
    policy = create_policy(analyst_sla_seconds=90, senior_sla_seconds=600)
    analyst_item, senior_item = create_recommendation(0.8), create_recommendation(0.6)

    analyst_item.route(policy, NOW)
    senior_item.route(policy, NOW)

    assert analyst_item.sla_due_at == NOW + timedelta(seconds=90)
    assert senior_item.sla_due_at == NOW + timedelta(seconds=600)


def test_a_high_stakes_item_goes_to_the_analyst_queue_instead_of_being_approved():
    rec = create_recommendation(0.99, stakes=20_000)

    decision = rec.route(create_policy(high_stakes_at=10_000), NOW)

    assert decision is None
    assert rec.tier is Tier.ANALYST_REVIEW
    assert rec.status is Status.PENDING
    assert rec.final_action is None


def test_re_routing_a_flagged_item_keeps_it_flagged():
    rec = create_recommendation(0.8, status=Status.FLAGGED, flagged=True)

    rec.route(EscalationPolicy(), NOW)

    assert rec.status is Status.FLAGGED


def test_re_routing_a_pending_item_under_a_looser_policy_approves_it():
    rec = create_recommendation(0.85)
    rec.route(EscalationPolicy(), NOW)
    assert rec.status is Status.PENDING

    decision = rec.route(create_policy(version=2, auto_approve_at=0.80), NOW)

    assert decision is not None and decision.verdict is Verdict.APPROVE
    assert rec.status is Status.APPROVED
    assert rec.tier is Tier.AUTO_APPROVE


# ------------------------------------------------------------------ route: audit sampling


def test_an_item_sampled_for_audit_goes_to_the_analyst_queue_instead_of_being_approved():
    rec = create_recommendation(0.97)

    decision = rec.route(EscalationPolicy(), NOW, sample_for_audit=True)

    assert decision is None
    assert rec.sampled_for_audit is True
    assert rec.tier is Tier.ANALYST_REVIEW
    assert rec.status is Status.PENDING
    assert rec.final_action is None
    assert rec.sla_due_at == NOW + timedelta(hours=4)


def test_an_unsampled_confident_item_is_not_marked_as_sampled():
    rec = create_recommendation(0.97)

    rec.route(EscalationPolicy(), NOW, sample_for_audit=False)

    assert rec.sampled_for_audit is False
    assert rec.status is Status.APPROVED


@pytest.mark.parametrize(
    ("confidence", "tier", "status"),
    [
        (0.80, Tier.ANALYST_REVIEW, Status.PENDING),
        (0.60, Tier.SENIOR_REVIEW, Status.PENDING),
        (0.30, Tier.BELOW_FLOOR, Status.REJECTED),
    ],
)
def test_audit_sampling_has_no_effect_below_the_auto_approve_tier(confidence, tier, status):
    rec = create_recommendation(confidence)

    rec.route(EscalationPolicy(), NOW, sample_for_audit=True)

    assert rec.sampled_for_audit is False
    assert rec.tier is tier
    assert rec.status is status


def test_an_item_once_sampled_stays_out_of_auto_approval_when_re_routed():
    rec = create_recommendation(0.97)
    rec.route(EscalationPolicy(), NOW, sample_for_audit=True)

    decision = rec.route(create_policy(version=2), NOW, sample_for_audit=False)

    assert decision is None
    assert rec.tier is Tier.ANALYST_REVIEW
    assert rec.status is Status.PENDING
