"""The labelled decisions a classifier learns from: the query, and its rows decoded in
bulk for the retraining job.

For each item (canaries left out), its latest human final decision (APPROVE, REJECT,
OVERRIDE or EDIT, not automated) that was not undone, oldest first: a standing decision
no later standing human final decision on the same item supersedes (an anti-join on the
item's decisions, which the decision log's index gives in time order without a sort).

`learning_query` reads the columns typed (payload a dict, verdict a Verdict, decided_at
an aware UTC datetime). `raw_learning_query` reads the same rows untyped (the payload's
JSON text, the verdict's value, the time as the driver gives it) and `decode_batch`
turns a batch of them into the same values column by column: one orjson call for the
batch's payloads, one pass for the times, instead of a type conversion per value.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa

from domain.clock import as_utc
from domain.enums import Verdict
from store.standing import gives_the_outcome, is_undone, standing_decisions
from store.tables import decisions_t, recs_t

HUMAN_FINAL = [v.value for v in (Verdict.APPROVE, Verdict.REJECT, Verdict.OVERRIDE, Verdict.EDIT)]

LearningRow = tuple[Any, str, str, str | None, datetime, str]
"""(payload, proposed_action, verdict, final_action, decided_at, item_id)"""


class PayloadJson(sa.types.TypeDecorator[Any]):
    """A JSON column read with orjson (several times faster than the json module on a
    million payloads); what orjson refuses (NaN, Infinity, integers beyond 64 bits, which
    the json module writes and reads) is read with the json module, so the values are
    the same. Selected through type_coerce, so the column's own type is unchanged."""

    impl = sa.types.String
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return load_json(value)


def load_json(value: Any) -> Any:
    """A JSON document's value (orjson, or the json module for what orjson refuses);
    anything but text as it is (a driver that decoded it already)."""
    if isinstance(value, str | bytes):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return json.loads(value)
    return value


def _labelled(workflow_id: str, *columns: Any) -> Any:
    c = decisions_t.c
    later = decisions_t.alias("later")
    superseded = sa.exists(
        sa.select(later.c.id).where(
            later.c.recommendation_id == c.recommendation_id,
            later.c.seq > c.seq,
            later.c.automated.is_(False),
            later.c.verdict.in_(HUMAN_FINAL),
            ~is_undone(later.c.id),
        )
    )
    return (
        standing_decisions(*columns)
        .join(recs_t, recs_t.c.id == c.recommendation_id)
        .where(
            c.workflow_id == workflow_id,
            c.automated.is_(False),
            c.verdict.in_(HUMAN_FINAL),
            recs_t.c.canary.is_(False),
            gives_the_outcome(),
            ~superseded,
        )
        .order_by(c.created_at, c.seq)
    )


def learning_query(workflow_id: str) -> Any:
    """The labelled decisions of a workflow, typed: (payload, proposed_action, verdict,
    final_action, decided_at, item_id); the item's id finds its label's weight when its
    label is a consensus of several reviews (domain.agreement_report.consensus_weights)."""
    c = decisions_t.c
    return _labelled(
        workflow_id,
        sa.type_coerce(recs_t.c.payload, PayloadJson()).label("payload"),
        recs_t.c.proposed_action,
        c.verdict,
        c.final_action,
        c.created_at.label("decided_at"),
        recs_t.c.id.label("item_id"),
    )


def raw_learning_query(workflow_id: str) -> Any:
    """The same rows as `learning_query`, untyped, for `decode_batch`."""
    c = decisions_t.c
    return _labelled(
        workflow_id,
        sa.cast(recs_t.c.payload, sa.Text).label("payload"),  # text, not decoded per row
        recs_t.c.proposed_action,
        sa.type_coerce(c.verdict, sa.String).label("verdict"),
        c.final_action,
        sa.type_coerce(c.created_at, sa.String).label("decided_at"),
        recs_t.c.id.label("item_id"),
    )


def decode_batch(rows: Sequence[Any]) -> list[LearningRow]:
    """Rows of `raw_learning_query` as (payload, proposed_action, verdict, final_action,
    decided_at, item_id): the payloads decoded together, the times made aware UTC datetimes
    (SQLite gives the text it keeps, in UTC; PostgreSQL's driver an aware datetime)."""
    if not rows:
        return []
    payloads, proposed, verdicts, finals, stamps, items = zip(*rows, strict=True)
    return list(
        zip(_payloads(payloads), proposed, verdicts, finals, _times(stamps), items, strict=True)
    )


def _payloads(texts: Sequence[Any]) -> list[Any]:
    if all(isinstance(t, str) for t in texts):
        try:
            decoded = orjson.loads("[" + ",".join(texts) + "]")
        except orjson.JSONDecodeError:
            pass  # one of them needs the json module: each on its own
        else:
            if len(decoded) == len(texts):
                return list(decoded)
    return [load_json(t) for t in texts]


def _times(stamps: Sequence[Any]) -> list[datetime]:
    parse = datetime.fromisoformat
    if stamps and isinstance(stamps[0], str):  # SQLite: UTC, kept without an offset
        try:
            return [parse(s + "+00:00") for s in stamps]  # aware in one C call each
        except ValueError:  # one kept with an offset after all
            return [as_utc(parse(s)) for s in stamps]
    return [s if s.tzinfo is UTC else as_utc(s) for s in stamps]
