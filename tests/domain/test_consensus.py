"""Several reviews per item as rules, without a database: the review rule, votes,
consensus, disputes and adjudication, four eyes and blind review."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.enums import ConsensusState, RecommendationStatus, Role, Tier, Verdict, WorkflowKind
from domain.errors import ConflictError, ForbiddenError, InvalidInputError
from domain.model import Draft, Recommendation, User
from domain.policy import EscalationPolicy
from tests.domain.builders import ACTIONS, LEASE, NOW, create_user, create_workflow


def create_policy(**fields: object) -> EscalationPolicy:
    return EscalationPolicy(changed_at=NOW, **fields)  # type: ignore[arg-type]


PROPOSED, OTHER, THIRD = ACTIONS


def create_reviewer(name: str, role: Role = Role.ANALYST) -> User:
    return create_user(role, f"usr_{name}")


def create_item(
    policy: EscalationPolicy, confidence: float = 0.8, **fields: object
) -> Recommendation:
    item = Recommendation(
        id="rec_1",
        workflow_id="wf_1",
        payload={},
        proposed_action=PROPOSED,
        confidence=confidence,
        created_at=NOW,
        submitted_by_id="usr_model",
    )
    for name, value in fields.items():
        setattr(item, name, value)
    item.route(policy, NOW)
    return item


ANA, BOB, CAL, DEE = (create_reviewer(n) for n in ("ana", "bob", "cal", "dee"))
SAM = create_reviewer("sam", Role.SENIOR)


def test_the_agreement_defaults_to_a_majority_of_the_reviews():
    assert [create_policy(reviews_required=n).agreement for n in (1, 2, 3, 4, 5)] == [1, 2, 2, 3, 3]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"reviews_required": 3, "agreement_required": 4}, "agreementRequired"),
        ({"reviews_required": 3, "agreement_required": 0}, "agreementRequired"),
        ({"reviews_required": 0}, "reviewsRequired"),
        ({"reviews_required": 10}, "reviewsRequired"),
        ({"high_stakes_reviews_required": 0}, "highStakesReviewsRequired"),
    ],
)
def test_a_policy_that_cannot_be_met_is_invalid_input(fields, field):
    with pytest.raises(InvalidInputError) as raised:
        create_policy(**fields).validate()
    assert raised.value.field == field


def test_one_review_of_one_needs_no_consensus():
    item = create_item(create_policy())
    assert item.consensus_state is None and not item.collecting


def test_an_item_in_a_human_tier_takes_the_policys_rule_and_an_automated_one_does_not():
    policy = create_policy(reviews_required=3)
    reviewed, automated = create_item(policy), create_item(policy, confidence=0.99)
    assert (reviewed.reviews_required, reviewed.agreement_required) == (3, 2)
    assert reviewed.consensus_state is ConsensusState.COLLECTING
    assert automated.consensus_state is None and automated.status is RecommendationStatus.APPROVED


def test_two_agreeing_votes_of_three_give_the_item_their_outcome():
    policy = create_policy(reviews_required=3)
    workflow, item = create_workflow(policy=policy), create_item(policy)
    for reviewer in (ANA, BOB, CAL):
        item.claim_for(reviewer, NOW, LEASE)

    first = item.decide(ANA, workflow, Verdict.OVERRIDE, NOW, action=OTHER, reason="too risky")
    assert first.vote and item.collecting and item.final_action is None
    assert item.status is RecommendationStatus.PENDING and item.votes_in() == 1
    second = item.decide(BOB, workflow, Verdict.OVERRIDE, NOW, action=OTHER, reason="thin file")

    assert second.vote and item.consensus_state is ConsensusState.REACHED
    assert (item.status, item.final_action) == (RecommendationStatus.OVERRIDDEN, OTHER)
    assert item.live_reviews(NOW) == []  # cal's lease ended
    with pytest.raises(ConflictError):
        item.decide(CAL, workflow, Verdict.APPROVE, NOW)


def test_votes_agree_on_the_outcome_not_the_reason_and_an_override_elsewhere_disagrees():
    policy = create_policy(reviews_required=3)
    workflow, item = create_workflow(policy=policy), create_item(policy)
    item.decide(ANA, workflow, Verdict.OVERRIDE, NOW, action=OTHER, reason="one")
    item.decide(BOB, workflow, Verdict.OVERRIDE, NOW, action=THIRD, reason="two")
    assert item.collecting
    item.decide(CAL, workflow, Verdict.OVERRIDE, NOW, action=THIRD, reason="three")
    assert item.final_action == THIRD


def test_edits_agree_only_on_the_same_content():
    policy = create_policy(reviews_required=2)
    workflow = create_workflow(WorkflowKind.DRAFT, policy=policy)
    item = create_item(policy, draft=Draft(original="Dear", content="Dear"))
    item.decide(ANA, workflow, Verdict.EDIT, NOW, content="Dear customer")
    assert item.draft is not None and item.draft.content == "Dear"  # nothing shown yet
    item.decide(BOB, workflow, Verdict.EDIT, NOW, content="Dear client")
    assert item.consensus_state is ConsensusState.DISPUTED


def test_when_every_vote_is_in_and_too_few_agree_the_item_is_disputed_and_a_senior_adjudicates():
    policy = create_policy(reviews_required=3)
    workflow, item = create_workflow(policy=policy), create_item(policy)
    item.decide(ANA, workflow, Verdict.APPROVE, NOW)
    item.decide(BOB, workflow, Verdict.REJECT, NOW)
    item.decide(CAL, workflow, Verdict.OVERRIDE, NOW, action=THIRD, reason="other")

    assert item.consensus_state is ConsensusState.DISPUTED
    assert (item.tier, item.status, item.final_action) == (
        Tier.SENIOR_REVIEW,
        RecommendationStatus.PENDING,
        None,
    )
    assert item.sla_due_at == NOW + timedelta(seconds=policy.senior_sla_seconds)
    with pytest.raises(ForbiddenError):
        item.decide(DEE, workflow, Verdict.APPROVE, NOW)  # an analyst may not adjudicate
    item.claim_for(SAM, NOW, LEASE)
    ruling = item.decide(SAM, workflow, Verdict.REJECT, NOW)

    assert not ruling.vote
    assert item.consensus_state is ConsensusState.ADJUDICATED
    assert item.status is RecommendationStatus.REJECTED


def test_a_reviewer_votes_once():
    policy = create_policy(reviews_required=3)
    workflow, item = create_workflow(policy=policy), create_item(policy)
    item.decide(ANA, workflow, Verdict.APPROVE, NOW)
    with pytest.raises(ConflictError):
        item.decide(ANA, workflow, Verdict.REJECT, NOW)
    with pytest.raises(ConflictError):
        item.claim_for(ANA, NOW, LEASE)


def test_each_review_is_leased_to_one_reviewer_and_a_lapsed_lease_frees_it():
    policy = create_policy(reviews_required=2)
    workflow, item = create_workflow(policy=policy), create_item(policy)
    item.claim_for(ANA, NOW, LEASE)
    item.claim_for(BOB, NOW, LEASE)

    with pytest.raises(ConflictError):
        item.claim_for(CAL, NOW, LEASE)
    with pytest.raises(ConflictError):
        item.decide(CAL, workflow, Verdict.APPROVE, NOW)
    later = NOW + LEASE + timedelta(seconds=1)
    item.claim_for(CAL, later, LEASE)
    assert sorted(r.reviewer_id for r in item.live_reviews(later)) == ["usr_cal"]


def test_a_flag_is_not_a_vote():
    policy = create_policy(reviews_required=2)
    workflow, item = create_workflow(policy=policy), create_item(policy)
    item.claim_for(ANA, NOW, LEASE)
    flag = item.decide(ANA, workflow, Verdict.FLAG, NOW, reason="odd")
    assert not flag.vote and item.votes_in() == 0 and item.flagged and item.collecting
    item.decide(ANA, workflow, Verdict.APPROVE, NOW)
    item.decide(BOB, workflow, Verdict.APPROVE, NOW)
    assert item.status is RecommendationStatus.APPROVED


def test_four_eyes_at_high_stakes_need_two_agreeing_reviewers_other_than_the_submitter():
    policy = create_policy(high_stakes_at=10_000.0, high_stakes_reviews_required=2)
    workflow = create_workflow(policy=policy)
    low = create_item(policy, stakes=50.0)
    high = create_item(policy, stakes=20_000.0, submitted_by_id=ANA.id)

    assert low.consensus_state is None
    assert (high.reviews_required, high.agreement_required, high.four_eyes) == (2, 2, True)
    with pytest.raises(ForbiddenError):
        high.decide(ANA, workflow, Verdict.APPROVE, NOW)
    high.decide(BOB, workflow, Verdict.APPROVE, NOW)
    assert high.collecting
    high.decide(CAL, workflow, Verdict.APPROVE, NOW)
    assert high.status is RecommendationStatus.APPROVED


def test_one_takes_back_ones_own_vote_only_while_votes_are_collected():
    policy = create_policy(reviews_required=3)
    workflow, item = create_workflow(policy=policy), create_item(policy)
    vote = item.decide(ANA, workflow, Verdict.APPROVE, NOW)
    item.take_back_vote(vote)
    assert item.votes_in() == 0
    again = item.decide(ANA, workflow, Verdict.APPROVE, NOW)
    item.decide(BOB, workflow, Verdict.APPROVE, NOW)
    with pytest.raises(ConflictError):
        item.take_back_vote(again)


def test_blind_review_hides_votes_until_one_has_voted_and_never_from_admins():
    policy = create_policy(reviews_required=3)
    workflow, item = create_workflow(policy=policy), create_item(policy)
    item.decide(ANA, workflow, Verdict.APPROVE, NOW)

    assert item.hides_votes_from(BOB, blind=True)
    assert not item.hides_votes_from(ANA, blind=True)
    assert not item.hides_votes_from(create_reviewer("root", Role.ADMIN), blind=True)
    assert not item.hides_votes_from(BOB, blind=False)
    item.decide(BOB, workflow, Verdict.APPROVE, NOW)
    assert not item.hides_votes_from(CAL, blind=True)  # decided: nothing left to bias
