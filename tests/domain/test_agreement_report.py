"""From cast votes to agreement inputs, consensus weights and the reliability warning, on
simulated reviewers with planted accuracies (no database)."""

from __future__ import annotations

import random

from domain.agreement_report import (
    REJECTED,
    RELIABILITY_MIN_VOTES,
    CastVote,
    agreement_inputs,
    agreement_report,
    consensus_weights,
    reliability_warning,
    with_reliability,
)
from domain.analytics import ReviewerStats
from domain.enums import ConsensusState, Verdict

ACTIONS = ["A", "B", "C"]


def _cast(item: str, reviewer: str, label: str, state: ConsensusState, outcome: str) -> CastVote:
    verdict = Verdict.APPROVE if label == "A" else Verdict.OVERRIDE
    return CastVote(item, reviewer, verdict, label, "A", state, outcome)


def simulated(accuracy: dict[str, float], items: int, seed: int = 14) -> list[CastVote]:
    """Every reviewer votes on every item: the truth with their planted accuracy, otherwise
    another action at random; an item is REACHED when a majority agrees, on their label."""
    rng = random.Random(seed)
    cast = []
    for i in range(items):
        truth = rng.choice(ACTIONS)
        labels = {
            who: truth if rng.random() < p else rng.choice([a for a in ACTIONS if a != truth])
            for who, p in accuracy.items()
        }
        top = max(ACTIONS, key=list(labels.values()).count)
        reached = list(labels.values()).count(top) * 2 > len(labels)
        state = ConsensusState.REACHED if reached else ConsensusState.DISPUTED
        cast += [_cast(f"i{i}", who, label, state, top) for who, label in labels.items()]
    return cast


def _stats(reviewer: str) -> ReviewerStats:
    return ReviewerStats(reviewer, 40, 0, None, 0.5, 0, None, None)


def test_a_plain_reject_is_labelled_as_a_rejection_and_disputed_items_have_no_consensus():
    cast = [
        CastVote("i1", "ana", Verdict.REJECT, None, "A", ConsensusState.REACHED, None),
        CastVote("i1", "bob", Verdict.REJECT, None, "A", ConsensusState.REACHED, None),
        CastVote("i2", "ana", Verdict.APPROVE, None, "A", ConsensusState.DISPUTED, None),
        CastVote("i2", "bob", Verdict.OVERRIDE, "B", "A", ConsensusState.DISPUTED, None),
    ]

    inputs = agreement_inputs(cast)

    assert [v.label for v in inputs.votes] == [REJECTED, REJECTED, "A", "B"]
    assert inputs.consensus == {"i1": REJECTED}
    assert inputs.proposals == {"i1": "A", "i2": "A"}


def test_a_reviewer_far_below_their_peers_is_warned_about_in_plain_words():
    accuracy = {"ana": 0.95, "bob": 0.9, "cal": 0.92, "dan": 0.45, "eve": 0.93}
    figures = agreement_report(simulated(accuracy, 60))
    rows = with_reliability(
        [_stats(who) for who in accuracy], figures, {who: who.title() for who in accuracy}
    )

    warned = {row.reviewer_id: row.reliability_warning for row in rows}
    assert [who for who, warning in warned.items() if warning] == ["dan"]
    assert warned["dan"] is not None
    assert warned["dan"].startswith("Dan's 60 votes match the consensus ")
    assert "review their recent decisions" in warned["dan"]
    assert all(row.estimated_accuracy is not None for row in rows)


def test_too_few_votes_or_a_small_gap_warn_about_no_one():
    few = agreement_report(
        simulated({"ana": 0.95, "bob": 0.9, "dan": 0.4}, RELIABILITY_MIN_VOTES - 1)
    )
    close = agreement_report(simulated({"ana": 0.9, "bob": 0.88, "dan": 0.82}, 80))

    assert reliability_warning("Dan", "dan", few) is None
    assert reliability_warning("Dan", "dan", close) is None


def test_only_items_that_reached_a_consensus_get_a_weight_below_one_for_doubt():
    cast = simulated({"ana": 0.9, "bob": 0.7, "cal": 0.6}, 50)

    weights = consensus_weights(cast)

    reached = {c.item_id for c in cast if c.consensus_state is ConsensusState.REACHED}
    assert set(weights) == reached
    assert all(0.0 < w <= 1.0 for w in weights.values())
    assert min(weights.values()) < 0.9  # some consensus is in doubt
