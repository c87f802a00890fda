"""From the votes cast on a workflow's items to the inputs of domain.agreement: each vote's
label, the items' consensus labels and the model's proposals; the agreement figures, the
weight of each consensus label for learning, and the warning for a reviewer far less
reliable than their peers. Standard library only.

A label is an outcome: the final action a vote (or an item) chose, and for a reject that
chose none the sentinel REJECTED, so that a reject is a call like any other. The
consensus label of an item is its final outcome once its votes agreed (REACHED) or a
senior settled its dispute (ADJUDICATED); a disputed or collecting item has none.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from domain.agreement import (
    AgreementFigures,
    Vote,
    agreement_figures,
    consensus_weight,
    dawid_skene,
)
from domain.analytics import ReviewerStats
from domain.enums import ConsensusState, Verdict

REJECTED = "(rejected)"
"""The label of a reject that chose no other action."""

SETTLED = frozenset({ConsensusState.REACHED, ConsensusState.ADJUDICATED})
"""Consensus states whose item's outcome is its consensus label."""

MODEL = "(model)"
"""The model's name as one more Dawid-Skene annotator (no user id looks like it)."""

RELIABILITY_GAP = 0.15
"""A reviewer whose estimated accuracy is at least this far below the median of the other
reviewers' is warned about..."""

RELIABILITY_MIN_VOTES = 20
"""...when they cast at least this many votes. Below that the Dawid-Skene prior (worth a
few votes) still weighs on the estimate, and a handful of unlucky calls is not a pattern.
The median of the peers, not their mean, so that one other weak reviewer does not hide
a second one."""


@dataclass(frozen=True)
class CastVote:
    """One standing vote as the store reads it, with what its item became.

    - verdict, final_action: the vote's own (final_action None for a plain reject);
    - proposed_action: the model's proposal for the item;
    - consensus_state, item_final_action: the item's state and outcome now.
    """

    item_id: str
    reviewer_id: str
    verdict: Verdict
    final_action: str | None
    proposed_action: str
    consensus_state: ConsensusState | None
    item_final_action: str | None


@dataclass(frozen=True)
class AgreementInputs:
    """What domain.agreement.agreement_figures takes: the votes labelled, item -> consensus
    label for settled items, item -> the model's proposal."""

    votes: list[Vote]
    consensus: dict[str, str]
    proposals: dict[str, str]


def outcome_label(verdict: Verdict, final_action: str | None, proposed_action: str) -> str:
    """A decision's outcome as a label: its final action (an approval's is the proposal),
    or REJECTED for a reject that chose none."""
    if final_action:
        return final_action
    return proposed_action if verdict is Verdict.APPROVE else REJECTED


def agreement_inputs(cast: Iterable[CastVote]) -> AgreementInputs:
    """The votes, consensus labels and proposals of these cast votes."""
    votes: list[Vote] = []
    consensus: dict[str, str] = {}
    proposals: dict[str, str] = {}
    for c in cast:
        label = outcome_label(c.verdict, c.final_action, c.proposed_action)
        votes.append(Vote(c.item_id, c.reviewer_id, label))
        proposals[c.item_id] = c.proposed_action
        if c.consensus_state in SETTLED:
            consensus[c.item_id] = c.item_final_action or REJECTED
    return AgreementInputs(votes, consensus, proposals)


def agreement_report(cast: Iterable[CastVote], min_shared_items: int = 10) -> AgreementFigures:
    """Every agreement figure over these votes (domain.agreement.agreement_figures), the
    model counted as one more annotator for the Dawid-Skene estimates."""
    inputs = agreement_inputs(cast)
    return agreement_figures(
        inputs.votes,
        consensus=inputs.consensus,
        proposals=inputs.proposals,
        min_shared_items=min_shared_items,
        model_annotator=MODEL,
    )


def consensus_weights(cast: Sequence[CastVote]) -> dict[str, float]:
    """Item -> the sample weight of its training row for the items whose votes reached a
    consensus: the Dawid-Skene probability (one fit over all these votes, the model as
    one more annotator) that the consensus label is the true one. Adjudicated items are
    not here (a senior ruled: weight 1), nor items decided by one review."""
    inputs = agreement_inputs(cast)
    reached = {c.item_id for c in cast if c.consensus_state is ConsensusState.REACHED}
    if not reached:
        return {}
    labels: dict[str, dict[str, str]] = {}
    for vote in inputs.votes:
        labels.setdefault(vote.item_id, {})[vote.reviewer_id] = vote.label
    for item, proposal in inputs.proposals.items():
        labels[item][MODEL] = proposal
    fit = dawid_skene(labels)
    return {item: consensus_weight(fit, item, inputs.consensus[item]) for item in sorted(reached)}


def reliability_warning(
    name: str,
    reviewer_id: str,
    figures: AgreementFigures,
) -> str | None:
    """A plain-words warning when a reviewer's Dawid-Skene estimated accuracy is at least
    RELIABILITY_GAP below the median of the other reviewers' estimates, over at least
    RELIABILITY_MIN_VOTES of their votes; None otherwise (or without peers to compare)."""
    rows = {r.reviewer_id: r for r in figures.reviewers}
    mine = rows.get(reviewer_id)
    if mine is None or mine.estimated_accuracy is None or mine.reviews < RELIABILITY_MIN_VOTES:
        return None
    peers = [
        r.estimated_accuracy
        for r in figures.reviewers
        if r.reviewer_id != reviewer_id and r.estimated_accuracy is not None
    ]
    if not peers:
        return None
    typical = statistics.median(peers)
    if typical - mine.estimated_accuracy < RELIABILITY_GAP:
        return None
    agreed = (
        f"match the consensus {mine.agreement_with_consensus:.0%} of the time"
        if mine.agreement_with_consensus is not None
        else "reached no consensus with others"
    )
    return (
        f"{name}'s {mine.reviews} votes {agreed}; their estimated accuracy is "
        f"{mine.estimated_accuracy:.0%} against a median of {typical:.0%} for the other "
        f"reviewers: review their recent decisions"
    )


def with_reliability(
    stats: Sequence[ReviewerStats], figures: AgreementFigures, names: Mapping[str, str]
) -> list[ReviewerStats]:
    """Reviewer rows with their reliability figures and warning (reliability_warning),
    `names` naming the reviewers (their ids where missing). Rows of reviewers who cast no
    vote are as they were."""
    rows = {r.reviewer_id: r for r in figures.reviewers}
    out = []
    for s in stats:
        mine = rows.get(s.reviewer_id)
        if mine is None:
            out.append(s)
            continue
        name = names.get(s.reviewer_id, s.reviewer_id)
        out.append(
            replace(
                s,
                agreement_with_consensus=mine.agreement_with_consensus,
                estimated_accuracy=mine.estimated_accuracy,
                reliability_warning=reliability_warning(name, s.reviewer_id, figures),
            )
        )
    return out


def seen_by(figures: AgreementFigures, only_reviewer: str | None) -> AgreementFigures:
    """The figures a caller may read: everything, or for one reviewer (an ANALYST) the
    workflow's overall figures, their own row and the pairs they are in."""
    if only_reviewer is None:
        return figures
    return replace(
        figures,
        pairs=[p for p in figures.pairs if only_reviewer in (p.first, p.second)],
        reviewers=[r for r in figures.reviewers if r.reviewer_id == only_reviewer],
    )
