"""Undo on the state machine, canary construction and judging, and canaries in reviewer stats."""

from __future__ import annotations

import random

import pytest

from domain import analytics, canaries
from domain.analytics import GroupTally, Tally
from domain.enums import RecommendationStatus, Role, Tier, Verdict, WorkflowKind
from domain.errors import ConflictError
from domain.model import DraftRevision
from domain.usecases.undo import _flagged_before, _previous_draft
from tests.domain.builders import (
    LEASE,
    NOW,
    create_decision,
    create_policy,
    create_recommendation,
    create_user,
    create_workflow,
)

Status = RecommendationStatus


def test_undoing_an_approval_puts_the_item_back_pending_and_bumps_the_version():
    ana = create_user()
    item = create_recommendation()
    decision = item.decide(ana, create_workflow(), Verdict.APPROVE, NOW)
    version = item.version

    item.undo(decision, flagged_before=False, previous_draft=None)

    assert (item.status, item.final_action, item.decided_at) == (Status.PENDING, None, None)
    assert item.claim is None
    assert item.version == version + 1


def test_undoing_a_decision_on_a_flagged_item_returns_it_to_flagged():
    ana = create_user()
    item = create_recommendation(flagged=True, status=Status.FLAGGED)
    decision = item.decide(ana, create_workflow(), Verdict.REJECT, NOW)

    item.undo(decision, flagged_before=True, previous_draft=None)

    assert item.status is Status.FLAGGED


def test_undoing_a_flag_unflags_unless_an_earlier_flag_stands():
    ana = create_user()
    workflow = create_workflow()
    item = create_recommendation()
    flag = item.decide(ana, workflow, Verdict.FLAG, NOW, reason="later")

    item.undo(flag, flagged_before=False, previous_draft=None)

    assert (item.status, item.flagged) == (Status.PENDING, False)


def test_undoing_a_flag_of_an_item_someone_claimed_since_is_a_conflict():
    ana, bob = create_user(user_id="usr_ana"), create_user(user_id="usr_bob")
    item = create_recommendation()
    flag = item.decide(ana, create_workflow(), Verdict.FLAG, NOW, reason="later")
    item.claim_for(bob, NOW, LEASE)

    with pytest.raises(ConflictError):
        item.undo(flag, flagged_before=False, previous_draft=None)


def test_undoing_an_edit_restores_the_draft_before_it():
    ana = create_user()
    workflow = create_workflow(kind=WorkflowKind.DRAFT)
    item = create_recommendation(draft="Dear customer")
    edit = item.decide(ana, workflow, Verdict.EDIT, NOW, content="Dear Ms Smith")

    item.undo(edit, flagged_before=False, previous_draft=None)

    assert item.draft is not None
    assert (item.draft.content, item.status) == ("Dear customer", Status.PENDING)


def test_the_previous_draft_is_the_revision_before_the_edits_own():
    edit = create_decision(
        verdict=Verdict.EDIT, edited_content="third", actor_id="usr_ana", created_at=NOW
    )
    revisions = [
        DraftRevision("first", 0.2, "usr_bob", NOW.replace(hour=10)),
        DraftRevision("second", 0.3, "usr_ana", NOW.replace(hour=11)),
        DraftRevision("third", None, "usr_ana", NOW),
    ]

    assert _previous_draft(revisions, edit) == ("second", 0.3)
    assert _previous_draft(revisions[2:], edit) is None


def test_the_undo_record_reverts_the_decision_and_is_a_human_undo():
    ana = create_user()
    workflow = create_workflow()
    item = create_recommendation()
    decision = item.decide(ana, workflow, Verdict.APPROVE, NOW)

    record = item.undo_decision(decision, ana, workflow, NOW)

    assert (record.verdict, record.reverts_id, record.automated) == (
        Verdict.UNDO,
        decision.id,
        False,
    )
    assert (record.actor_id, record.final_action, record.tier) == (ana.id, None, decision.tier)


def test_only_a_standing_earlier_flag_counts_as_flagged_before():
    flag = create_decision(1, verdict=Verdict.FLAG, seq=1)
    undone_flag = create_decision(2, verdict=Verdict.FLAG, seq=2, undone=True)
    approve = create_decision(3, seq=3)

    assert _flagged_before([flag, approve], approve) is True
    assert _flagged_before([undone_flag, approve], approve) is False


def test_a_canary_copies_the_source_proposal_and_is_claimed_by_its_reviewer():
    ana = create_user(Role.ANALYST)
    source = create_recommendation(confidence=0.72, payload={"amount": 9})
    source.decide(ana, create_workflow(), Verdict.OVERRIDE, NOW, action="deny_claim", reason="x")

    canary, claim = canaries.build_canary(source, ana, create_policy(), NOW, LEASE)

    assert canary.id != source.id
    assert (canary.canary, canary.canary_of) == (True, source.id)
    assert (canary.proposed_action, canary.confidence) == ("approve_claim", 0.72)
    assert canary.payload == {"amount": 9} and canary.payload is not source.payload
    assert (canary.status, canary.final_action, canary.tier) == (
        Status.CLAIMED,
        None,
        Tier.ANALYST_REVIEW,
    )
    assert canary.claim == claim and claim.reviewer_id == ana.id
    assert canary.external_id is None


def test_a_canary_is_drawn_at_the_policys_rate():
    rng = random.Random(7)
    policy = create_policy(canary_rate=0.25)

    draws = [canaries.wants_canary(policy, rng) for _ in range(4000)]

    assert 0.2 < sum(draws) / len(draws) < 0.3
    assert not canaries.wants_canary(create_policy(canary_rate=0.0), random.Random(1))


@pytest.mark.parametrize(
    ("verdict", "final", "caught"),
    [
        (Verdict.APPROVE, "approve_claim", False),
        (Verdict.EDIT, "approve_claim", False),
        (Verdict.OVERRIDE, "escalate", False),
        (Verdict.OVERRIDE, "deny_claim", True),
        (Verdict.REJECT, None, True),
    ],
)
def test_what_catches_a_canary(verdict, final, caught):
    assert canaries.caught(verdict, final, "deny_claim") is caught


def test_canaries_enter_audit_accuracy_but_not_the_counts():
    spot_checks = GroupTally(
        False, "usr_ana", Tier.ANALYST_REVIEW, Tally(4, approvals=4), audited=2, audited_approvals=2
    )
    checks = GroupTally(
        False, "usr_ana", Tier.ANALYST_REVIEW, Tally(), canaries=2, canaries_missed=1
    )

    (stats,) = analytics.reviewer_stats([spot_checks, checks], {}, {}, 0)

    assert stats.decisions == 4
    assert stats.audit_accuracy == pytest.approx(3 / 4)
    assert stats.canaries_missed == 1
