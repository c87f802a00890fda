"""Recommendation's life: claim_for, release_by, decide, provide_data, effective_status."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.enums import (
    RecommendationStatus,
    ReviewerRole,
    Role,
    Tier,
    Verdict,
    WorkflowKind,
)
from domain.errors import ConflictError, ForbiddenError, InvalidInputError
from tests.domain.builders import (
    LEASE,
    NOW,
    create_claimed_recommendation,
    create_expired_claim,
    create_recommendation,
    create_user,
    create_workflow,
)

Status = RecommendationStatus

ANN = create_user(Role.ANALYST, "usr_ann")
BOB = create_user(Role.ANALYST, "usr_bob")
SUE = create_user(Role.SENIOR, "usr_sue")
ADA = create_user(Role.ADMIN, "usr_ada")

DECIDED = [Status.APPROVED, Status.REJECTED, Status.OVERRIDDEN, Status.EDITED]


def create_needs_data_recommendation(**kwargs):
    return create_recommendation(0.3, tier=Tier.BELOW_FLOOR, status=Status.NEEDS_DATA, **kwargs)


# ------------------------------------------------------------------ claim_for


def test_claiming_an_item_leases_it_and_bumps_its_version():
    rec = create_recommendation()

    claim = rec.claim_for(ANN, NOW, LEASE)

    assert rec.status is Status.CLAIMED
    assert rec.version == 2
    assert rec.claim is claim
    assert claim.reviewer_id == ANN.id
    assert claim.claimed_at == NOW
    assert claim.expires_at == NOW + LEASE
    assert rec.effective_status(NOW) is Status.CLAIMED


def test_an_item_held_by_another_reviewer_cannot_be_claimed():
    rec = create_claimed_recommendation(ANN)

    with pytest.raises(ConflictError) as raised:
        rec.claim_for(BOB, NOW + timedelta(minutes=5), LEASE)

    assert raised.value.current_status == "CLAIMED"
    assert raised.value.current_version == 2
    assert rec.claim is not None and rec.claim.reviewer_id == ANN.id
    assert rec.version == 2


def test_an_expired_lease_makes_the_item_pending_again_for_readers():
    rec = create_claimed_recommendation(ANN)

    assert rec.effective_status(NOW + LEASE - timedelta(seconds=1)) is Status.CLAIMED
    assert rec.effective_status(NOW + LEASE + timedelta(seconds=1)) is Status.PENDING


def test_a_lease_ends_at_its_expiry_instant():
    rec = create_claimed_recommendation(ANN)

    assert rec.live_claim(NOW + LEASE) is None
    assert rec.effective_status(NOW + LEASE) is Status.PENDING


def test_an_expired_lease_on_a_flagged_item_shows_it_as_flagged():
    rec = create_claimed_recommendation(ANN, status=Status.FLAGGED, flagged=True)

    assert rec.effective_status(NOW + LEASE + timedelta(seconds=1)) is Status.FLAGGED


def test_another_reviewer_may_claim_an_item_whose_lease_expired():
    rec = create_claimed_recommendation(ANN)
    later = NOW + LEASE + timedelta(minutes=1)

    claim = rec.claim_for(BOB, later, LEASE)

    assert claim.reviewer_id == BOB.id
    assert rec.claim is claim
    assert rec.status is Status.CLAIMED
    assert rec.version == 3


def test_a_reviewer_may_renew_their_own_live_lease():
    rec = create_claimed_recommendation(ANN)
    later = NOW + timedelta(minutes=10)

    claim = rec.claim_for(ANN, later, LEASE)

    assert claim.expires_at == later + LEASE
    assert rec.status is Status.CLAIMED
    assert rec.version == 3


def test_renewing_a_lease_keeps_the_first_claim_time_so_dwell_counts_all_reading():
    rec = create_claimed_recommendation(ANN)
    first_claimed_at = rec.claim.claimed_at
    rec.claim_for(ANN, NOW + timedelta(minutes=10), LEASE)

    decision = rec.decide(ANN, create_workflow(), Verdict.APPROVE, NOW + timedelta(minutes=12))

    assert rec.claim is None
    assert decision.dwell_ms == int(
        (NOW + timedelta(minutes=12) - first_claimed_at).total_seconds() * 1000
    )


def test_a_flagged_item_can_be_claimed():
    rec = create_recommendation(status=Status.FLAGGED, flagged=True)

    rec.claim_for(BOB, NOW, LEASE)

    assert rec.status is Status.CLAIMED
    assert rec.flagged is True


def test_an_item_waiting_for_data_cannot_be_claimed_by_a_senior():
    rec = create_needs_data_recommendation()

    with pytest.raises(ConflictError) as raised:
        rec.claim_for(SUE, NOW, LEASE)

    assert raised.value.current_status == "NEEDS_DATA"
    assert rec.claim is None
    assert rec.status is Status.NEEDS_DATA
    assert rec.version == 1


def test_an_analyst_may_not_even_try_to_claim_an_item_waiting_for_data():
    rec = create_needs_data_recommendation()

    with pytest.raises(ForbiddenError):
        rec.claim_for(ANN, NOW, LEASE)


@pytest.mark.parametrize("status", DECIDED)
def test_a_decided_item_cannot_be_claimed_and_the_error_carries_its_status(status):
    rec = create_recommendation(status=status)

    with pytest.raises(ConflictError) as raised:
        rec.claim_for(ANN, NOW, LEASE)

    assert raised.value.current_status == status.value
    assert raised.value.current_version == 1
    assert rec.claim is None
    assert rec.status is status


def test_an_analyst_may_not_claim_a_senior_review_item():
    rec = create_recommendation(0.6, tier=Tier.SENIOR_REVIEW)

    with pytest.raises(ForbiddenError):
        rec.claim_for(ANN, NOW, LEASE)
    assert rec.status is Status.PENDING


# ------------------------------------------------------------------ release_by


def test_releasing_ones_own_lease_makes_the_item_pending_again():
    rec = create_claimed_recommendation(ANN)

    rec.release_by(ANN, NOW + timedelta(minutes=1))

    assert rec.status is Status.PENDING
    assert rec.claim is None
    assert rec.version == 3


def test_another_reviewer_cannot_release_a_lease():
    rec = create_claimed_recommendation(ANN)

    with pytest.raises(ConflictError):
        rec.release_by(BOB, NOW + timedelta(minutes=1))
    assert rec.claim is not None and rec.claim.reviewer_id == ANN.id


def test_an_admin_may_release_anyones_lease():
    rec = create_claimed_recommendation(ANN)

    rec.release_by(ADA, NOW + timedelta(minutes=1))

    assert rec.status is Status.PENDING
    assert rec.claim is None


def test_releasing_an_item_that_is_not_claimed_is_a_conflict():
    rec = create_recommendation()

    with pytest.raises(ConflictError) as raised:
        rec.release_by(ANN, NOW)
    assert raised.value.current_status == "PENDING"


def test_releasing_an_expired_lease_is_a_conflict_reporting_the_effective_status():
    rec = create_claimed_recommendation(ANN)

    with pytest.raises(ConflictError) as raised:
        rec.release_by(ANN, NOW + LEASE + timedelta(seconds=1))
    assert raised.value.current_status == "PENDING"


# ------------------------------------------------------------------ decide: outcomes


def test_approving_executes_the_proposal_and_closes_the_item():
    rec = create_claimed_recommendation(ANN, proposed_action="deny_claim")
    workflow = create_workflow()
    at = NOW + timedelta(seconds=90)

    decision = rec.decide(
        ANN, workflow, Verdict.APPROVE, at, reason="matches policy", reason_tags=["routine"]
    )

    assert rec.status is Status.APPROVED
    assert rec.final_action == "deny_claim"
    assert rec.decided_at == at
    assert rec.claim is None
    assert rec.version == 3
    assert decision.verdict is Verdict.APPROVE
    assert decision.automated is False
    assert decision.actor_id == ANN.id
    assert decision.proposed_action == "deny_claim"
    assert decision.final_action == "deny_claim"
    assert decision.tier is Tier.ANALYST_REVIEW
    assert decision.policy_version == workflow.policy.version
    assert decision.reason == "matches policy"
    assert decision.reason_tags == ["routine"]
    assert decision.created_at == at
    assert decision.dwell_ms == 90_000


def test_the_dwell_time_counts_milliseconds_since_ones_own_claim():
    rec = create_claimed_recommendation(ANN)

    decision = rec.decide(
        ANN, create_workflow(), Verdict.APPROVE, NOW + timedelta(seconds=2, milliseconds=345)
    )

    assert decision.dwell_ms == 2_345


def test_deciding_without_a_claim_records_no_dwell_time():
    rec = create_recommendation()

    decision = rec.decide(ANN, create_workflow(), Verdict.APPROVE, NOW)

    assert decision.dwell_ms is None
    assert rec.status is Status.APPROVED
    assert rec.version == 2


def test_deciding_on_an_expired_lease_of_ones_own_records_no_dwell_time():
    rec = create_claimed_recommendation(ANN)

    decision = rec.decide(ANN, create_workflow(), Verdict.APPROVE, NOW + LEASE * 2)

    assert decision.dwell_ms is None


def test_the_decision_keeps_its_own_copy_of_the_reason_tags():
    tags = ["routine"]
    decision = create_recommendation().decide(
        ANN, create_workflow(), Verdict.APPROVE, NOW, reason_tags=tags
    )

    tags.append("added later")

    assert decision.reason_tags == ["routine"]


def test_rejecting_closes_the_item_without_an_action():
    rec = create_claimed_recommendation(ANN)

    decision = rec.decide(ANN, create_workflow(), Verdict.REJECT, NOW + timedelta(seconds=5))

    assert rec.status is Status.REJECTED
    assert rec.final_action is None
    assert rec.decided_at == NOW + timedelta(seconds=5)
    assert rec.claim is None
    assert rec.version == 3
    assert decision.verdict is Verdict.REJECT
    assert decision.final_action is None


def test_overriding_executes_the_chosen_action_instead_of_the_proposal():
    rec = create_claimed_recommendation(ANN, proposed_action="approve_claim")

    decision = rec.decide(
        ANN, create_workflow(), Verdict.OVERRIDE, NOW, action="escalate", reason="fraud signs"
    )

    assert rec.status is Status.OVERRIDDEN
    assert rec.final_action == "escalate"
    assert rec.proposed_action == "approve_claim"
    assert rec.decided_at == NOW
    assert rec.claim is None
    assert rec.version == 3
    assert decision.verdict is Verdict.OVERRIDE
    assert decision.proposed_action == "approve_claim"
    assert decision.final_action == "escalate"


def test_overriding_with_the_proposed_action_is_refused_and_changes_nothing():
    rec = create_claimed_recommendation(ANN, proposed_action="approve_claim")

    with pytest.raises(InvalidInputError) as raised:
        rec.decide(ANN, create_workflow(), Verdict.OVERRIDE, NOW, action="approve_claim")

    assert raised.value.field == "action"
    assert rec.status is Status.CLAIMED
    assert rec.final_action is None
    assert rec.version == 2


def test_overriding_with_an_action_the_workflow_does_not_have_is_refused():
    rec = create_claimed_recommendation(ANN)

    with pytest.raises(InvalidInputError) as raised:
        rec.decide(ANN, create_workflow(), Verdict.OVERRIDE, NOW, action="launch_rocket")

    assert raised.value.field == "action"
    assert rec.status is Status.CLAIMED
    assert rec.version == 2


def test_editing_a_draft_replaces_its_content_and_keeps_the_original():
    rec = create_claimed_recommendation(ANN, draft="Dear customer, no.")
    workflow = create_workflow(WorkflowKind.DRAFT, ReviewerRole.EDITOR)

    decision = rec.decide(ANN, workflow, Verdict.EDIT, NOW, content="Dear customer, sorry.")

    assert rec.status is Status.EDITED
    assert rec.final_action == rec.proposed_action
    assert rec.decided_at == NOW
    assert rec.claim is None
    assert rec.version == 3
    assert rec.draft is not None
    assert rec.draft.content == "Dear customer, sorry."
    assert rec.draft.original == "Dear customer, no."
    assert rec.draft.predicted_score is None
    assert decision.verdict is Verdict.EDIT
    assert decision.edited_content == "Dear customer, sorry."
    assert decision.final_action == rec.proposed_action


def test_editing_an_item_without_a_draft_is_refused():
    rec = create_claimed_recommendation(ANN, draft=None)
    workflow = create_workflow(WorkflowKind.DRAFT, ReviewerRole.EDITOR)

    with pytest.raises(InvalidInputError) as raised:
        rec.decide(ANN, workflow, Verdict.EDIT, NOW, content="new text")

    assert raised.value.field == "content"
    assert rec.status is Status.CLAIMED


def test_flagging_marks_the_item_and_frees_it_without_deciding_it():
    rec = create_claimed_recommendation(ANN)

    decision = rec.decide(ANN, create_workflow(), Verdict.FLAG, NOW, reason="odd address")

    assert rec.status is Status.FLAGGED
    assert rec.flagged is True
    assert rec.claim is None
    assert rec.final_action is None
    assert rec.decided_at is None
    assert rec.version == 3
    assert decision.verdict is Verdict.FLAG
    assert decision.final_action is None
    assert decision.reason == "odd address"


def test_a_flagged_item_can_still_be_decided():
    rec = create_claimed_recommendation(ANN)
    rec.decide(ANN, create_workflow(), Verdict.FLAG, NOW, reason="odd")

    rec.decide(BOB, create_workflow(), Verdict.APPROVE, NOW + timedelta(minutes=1))

    assert rec.status is Status.APPROVED
    assert rec.version == 4


def test_releasing_a_flagged_item_returns_it_to_flagged():
    rec = create_recommendation()
    rec.decide(ANN, create_workflow(), Verdict.FLAG, NOW, reason="odd")
    rec.claim_for(BOB, NOW, LEASE)
    assert rec.status is Status.CLAIMED

    rec.release_by(BOB, NOW + timedelta(minutes=1))

    assert rec.status is Status.FLAGGED
    assert rec.claim is None


# ------------------------------------------------------------------ decide: refusals


@pytest.mark.parametrize("status", DECIDED)
def test_a_decided_item_cannot_be_decided_again(status):
    rec = create_recommendation(status=status)

    with pytest.raises(ConflictError) as raised:
        rec.decide(ANN, create_workflow(), Verdict.REJECT, NOW)

    assert raised.value.current_status == status.value
    assert rec.status is status
    assert rec.version == 1


def test_approving_twice_is_a_conflict_carrying_the_first_outcome():
    rec = create_claimed_recommendation(ANN)
    rec.decide(ANN, create_workflow(), Verdict.APPROVE, NOW)

    with pytest.raises(ConflictError) as raised:
        rec.decide(ANN, create_workflow(), Verdict.REJECT, NOW)

    assert raised.value.current_status == "APPROVED"
    assert raised.value.current_version == 3


def test_an_item_held_by_another_reviewer_cannot_be_decided():
    rec = create_claimed_recommendation(ANN)

    with pytest.raises(ConflictError) as raised:
        rec.decide(BOB, create_workflow(), Verdict.APPROVE, NOW + timedelta(minutes=1))

    assert raised.value.current_status == "CLAIMED"
    assert rec.status is Status.CLAIMED
    assert rec.final_action is None


def test_an_item_whose_lease_expired_may_be_decided_by_another_reviewer():
    rec = create_recommendation(status=Status.CLAIMED)
    rec.claim = create_expired_claim(ANN.id)

    decision = rec.decide(BOB, create_workflow(), Verdict.APPROVE, NOW + LEASE * 2)

    assert rec.status is Status.APPROVED
    assert decision.actor_id == BOB.id
    assert decision.dwell_ms is None


def test_an_analyst_may_not_decide_a_senior_review_item():
    rec = create_recommendation(0.6, tier=Tier.SENIOR_REVIEW)

    with pytest.raises(ForbiddenError):
        rec.decide(ANN, create_workflow(), Verdict.APPROVE, NOW)
    assert rec.status is Status.PENDING


@pytest.mark.parametrize(
    ("reviewer_role", "kind", "verdict", "offered"),
    [
        (ReviewerRole.VERIFIER, WorkflowKind.CLASSIFICATION, Verdict.APPROVE, True),
        (ReviewerRole.VERIFIER, WorkflowKind.CLASSIFICATION, Verdict.REJECT, True),
        (ReviewerRole.VERIFIER, WorkflowKind.CLASSIFICATION, Verdict.FLAG, True),
        (ReviewerRole.VERIFIER, WorkflowKind.CLASSIFICATION, Verdict.OVERRIDE, False),
        (ReviewerRole.VERIFIER, WorkflowKind.DRAFT, Verdict.EDIT, False),
        (ReviewerRole.EDITOR, WorkflowKind.DRAFT, Verdict.EDIT, True),
        (ReviewerRole.EDITOR, WorkflowKind.DRAFT, Verdict.APPROVE, True),
        (ReviewerRole.EDITOR, WorkflowKind.DRAFT, Verdict.OVERRIDE, False),
        (ReviewerRole.EDITOR, WorkflowKind.CLASSIFICATION, Verdict.EDIT, False),
        (ReviewerRole.EXPERT, WorkflowKind.CLASSIFICATION, Verdict.OVERRIDE, True),
        (ReviewerRole.EXPERT, WorkflowKind.CLASSIFICATION, Verdict.EDIT, False),
        (ReviewerRole.EXPERT, WorkflowKind.DRAFT, Verdict.EDIT, True),
        (ReviewerRole.EXPERT, WorkflowKind.DRAFT, Verdict.OVERRIDE, True),
    ],
)
def test_a_verdict_is_accepted_only_when_the_workflow_offers_it(
    reviewer_role, kind, verdict, offered
):
    rec = create_claimed_recommendation(ANN, draft="a draft")
    workflow = create_workflow(kind, reviewer_role)
    arguments = {"reason": "because", "action": "escalate", "content": "edited"}

    if offered:
        decision = rec.decide(ANN, workflow, verdict, NOW, **arguments)
        assert decision.verdict is verdict
        assert rec.version == 3
    else:
        with pytest.raises(ForbiddenError):
            rec.decide(ANN, workflow, verdict, NOW, **arguments)
        assert rec.status is Status.CLAIMED
        assert rec.version == 2


@pytest.mark.parametrize("verdict", [Verdict.REQUEST_MORE_DATA, Verdict.UNDO])
def test_system_verdicts_are_not_offered_to_reviewers(verdict):
    rec = create_claimed_recommendation(ANN)

    with pytest.raises(ForbiddenError):
        rec.decide(ANN, create_workflow(reviewer_role=ReviewerRole.EXPERT), verdict, NOW)
    assert rec.status is Status.CLAIMED


# ------------------------------------------------------------------ NEEDS_DATA


def test_providing_data_merges_it_and_sends_the_item_to_the_senior_queue():
    rec = create_needs_data_recommendation(payload={"amount": 120, "country": "??"})
    workflow = create_workflow()

    rec.provide_data({"country": "NL", "iban": "NL00BANK0123456789"}, workflow.policy, NOW)

    assert rec.payload == {"amount": 120, "country": "NL", "iban": "NL00BANK0123456789"}
    assert rec.tier is Tier.SENIOR_REVIEW
    assert rec.status is Status.PENDING
    assert rec.sla_due_at == NOW + timedelta(hours=24)
    assert rec.version == 2


def test_an_item_that_got_its_data_can_be_claimed_by_a_senior_but_not_an_analyst():
    rec = create_needs_data_recommendation()
    rec.provide_data({"more": True}, create_workflow().policy, NOW)

    with pytest.raises(ForbiddenError):
        rec.claim_for(ANN, NOW, LEASE)
    rec.claim_for(SUE, NOW, LEASE)

    assert rec.status is Status.CLAIMED


@pytest.mark.parametrize(
    "status", [Status.PENDING, Status.CLAIMED, Status.FLAGGED, Status.APPROVED, Status.REJECTED]
)
def test_only_an_item_waiting_for_data_takes_more_data(status):
    rec = create_recommendation(status=status, payload={"amount": 120})

    with pytest.raises(ConflictError) as raised:
        rec.provide_data({"amount": 999}, create_workflow().policy, NOW)

    assert raised.value.current_status == status.value
    assert rec.payload == {"amount": 120}
    assert rec.version == 1


def test_a_senior_may_decide_an_item_waiting_for_data():
    rec = create_needs_data_recommendation()

    rec.decide(SUE, create_workflow(), Verdict.REJECT, NOW)

    assert rec.status is Status.REJECTED


def test_an_analyst_may_not_decide_an_item_waiting_for_data():
    rec = create_needs_data_recommendation()

    with pytest.raises(ForbiddenError):
        rec.decide(ANN, create_workflow(), Verdict.REJECT, NOW)
    assert rec.status is Status.NEEDS_DATA


def test_an_item_waiting_for_data_cannot_be_flagged_and_stays_decidable_by_a_senior():
    # Flagging would take the item out of NEEDS_DATA into a tier seniors may not decide.
    rec = create_needs_data_recommendation()

    with pytest.raises(ConflictError) as refused:
        rec.decide(SUE, create_workflow(), Verdict.FLAG, NOW, reason="which account is this?")

    assert refused.value.current_status == "NEEDS_DATA"
    assert rec.status is Status.NEEDS_DATA
    rec.decide(SUE, create_workflow(), Verdict.REJECT, NOW + timedelta(minutes=5))
    assert rec.status is Status.REJECTED
