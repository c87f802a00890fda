"""The standing rules every read follows, written once: the selects queries start from.

Canaries are invisible. A canary is a copy of an already-overridden item handed to
one reviewer to measure attention (domain.canaries); only that reviewer sees it,
through its claim. No list or count of items, no analytics figure and no learning
row includes a canary or a decision on one.

Undone decisions don't count. A decision reverted by a later UNDO decision (whose
`reverts_id` points at it) stays in the hash-chained log, flagged, and counts
nowhere else; neither does the override it wrote.

A query that lists or counts items starts from `visible_recommendations`, one over
decisions from `standing_decisions` (or `standing_decisions_on_real_items` when its
figures are about real work), one over overrides from `standing_overrides`, and adds
its own conditions and joins. A query that must see what these hide says so, and
why, where it is written; tests/store/test_standing_rules.py holds every read
method either to the rules or to its named exception.
"""

from __future__ import annotations

from typing import Any, overload

import sqlalchemy as sa

from domain.enums import ConsensusState
from store.tables import (
    DecisionRow,
    OverrideRow,
    RecommendationRow,
    decisions_t,
    overrides_t,
    recs_t,
)


@overload
def visible_recommendations() -> sa.Select[RecommendationRow]: ...
@overload
def visible_recommendations(column: Any, /, *columns: Any) -> sa.Select[Any]: ...
def visible_recommendations(*columns: Any) -> sa.Select[Any]:
    """SELECT `columns` (whole rows, as RecommendationRow, when none) FROM
    recommendations, canaries left out."""
    return (
        sa.select(*(columns or (RecommendationRow,)))
        .select_from(recs_t)
        .where(recs_t.c.canary.is_(False))
    )


def is_undone(decision_id: Any) -> sa.Exists:
    """Whether an UNDO decision reverts the decision `decision_id` (a column), as a
    correlated EXISTS."""
    undo = decisions_t.alias("undo")
    return sa.exists(sa.select(undo.c.id).where(undo.c.reverts_id == decision_id))


def is_canary(rec_id: Any) -> sa.Exists:
    """Whether the item `rec_id` (a column) is a canary, as a correlated EXISTS."""
    item = recs_t.alias("canary_item")
    return sa.exists(sa.select(item.c.id).where(item.c.id == rec_id, item.c.canary.is_(True)))


def gives_the_outcome(decision: Any = None) -> Any:
    """Whether a decision (decisions_t's columns by default) gave its item an outcome: any
    decision but a vote, and the vote that completed its item's consensus. Other votes
    are each one review among several, labels of nothing by themselves."""
    c = decision if decision is not None else decisions_t.c
    item = recs_t.alias("voted_item")
    reached = sa.exists(
        sa.select(item.c.id).where(
            item.c.id == c.recommendation_id,
            item.c.consensus_state == ConsensusState.REACHED.value,
        )
    )
    return c.vote.is_(False) | reached


def decided_its_item(decision: Any, item: Any) -> Any:
    """Whether a decision (`decision`: decisions' columns) is the one that gave its item
    (`item`: the joined recommendations' columns) its outcome, so that an item counts once:
    any decision but a vote, and of the votes only the one that completed the consensus
    (written at the moment the item was decided)."""
    return decision.vote.is_(False) | (decision.created_at == item.decided_at)


@overload
def standing_decisions() -> sa.Select[DecisionRow]: ...
@overload
def standing_decisions(column: Any, /, *columns: Any) -> sa.Select[Any]: ...
def standing_decisions(*columns: Any) -> sa.Select[Any]:
    """SELECT `columns` (whole rows, as DecisionRow, when none) FROM decisions, undone
    decisions left out."""
    return (
        sa.select(*(columns or (DecisionRow,)))
        .select_from(decisions_t)
        .where(~is_undone(decisions_t.c.id))
    )


@overload
def standing_decisions_on_real_items() -> sa.Select[DecisionRow]: ...
@overload
def standing_decisions_on_real_items(column: Any, /, *columns: Any) -> sa.Select[Any]: ...
def standing_decisions_on_real_items(*columns: Any) -> sa.Select[Any]:
    """`standing_decisions`, decisions on canaries left out too: the real work done."""
    return standing_decisions(*columns).where(~is_canary(decisions_t.c.recommendation_id))


@overload
def standing_overrides() -> sa.Select[OverrideRow]: ...
@overload
def standing_overrides(column: Any, /, *columns: Any) -> sa.Select[Any]: ...
def standing_overrides(*columns: Any) -> sa.Select[Any]:
    """SELECT `columns` (whole rows, as OverrideRow, when none) FROM overrides: the
    corrections, i.e. those whose decision was not undone, on real items."""
    return (
        sa.select(*(columns or (OverrideRow,)))
        .select_from(overrides_t)
        .where(
            ~is_undone(overrides_t.c.decision_id),
            ~is_canary(overrides_t.c.recommendation_id),
        )
    )
