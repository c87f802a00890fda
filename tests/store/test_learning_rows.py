"""The learning rows the retraining job streams (decoded in bulk) are the rows the typed
query reads, on SQLite and PostgreSQL: the same items, labels, payloads and times, in the
same order, with undone, superseded, automated and canary decisions left out."""

from __future__ import annotations

import dataclasses
from datetime import UTC, timedelta
from typing import Any

import sqlalchemy as sa

from domain.enums import Verdict
from domain.model import Recommendation
from store.database import Database
from store.learning import LearningReads
from store.tables import DecisionRow, PolicyRow, RecommendationRow, UserRow, WorkflowRow
from store.tables.columns import values_of
from tests.domain.builders import (
    NOW,
    create_decision,
    create_policy,
    create_recommendation,
    create_user,
)
from tests.domain.builders import create_workflow as create_domain_workflow

BIG = 2**70  # beyond 64 bits: orjson refuses it, the json module reads it


def create_item(number: int, payload: dict[str, Any], canary: bool = False) -> Recommendation:
    item = create_recommendation(payload=payload)
    return dataclasses.replace(
        item,
        id=f"rec_{number}",
        created_at=NOW + timedelta(minutes=number),
        canary=canary,
        canary_of="rec_1" if canary else None,
    )


async def write(database: Database, *rows: Any) -> None:
    async with database.write_sessions()() as session:
        for row in rows:
            await session.execute(sa.insert(type(row)).values(values_of(row)))
        await session.commit()


async def create_log(database: Database) -> None:
    """Six items: approved; overridden then undone and approved again; approved then
    overridden (the later one counts); approved automatically; a canary; one whose
    payload holds an integer beyond 64 bits and text with quotes and non-ASCII."""
    policy = create_policy(version=1, changed_at=NOW, workflow_id="wf_claims")
    workflow = create_domain_workflow(policy=policy)
    await write(
        database,
        UserRow.of(create_user(), "hash"),
        WorkflowRow.of(workflow),
        PolicyRow.of(workflow.id, workflow.policy),
    )
    payloads: list[dict[str, Any]] = [
        {"amount": 120, "tags": ["a", "b"], "owner": {"age": 41.5}},
        {"amount": 80.25, "verified": True},
        {"amount": None, "note": "x"},
        {"amount": 3},
        {"amount": 120, "tags": ["a", "b"], "owner": {"age": 41.5}},
        {"amount": BIG, "note": 'says "hello", ünïcode ✓'},
    ]
    items = [create_item(i + 1, p, canary=(i == 4)) for i, p in enumerate(payloads)]
    await write(database, *(RecommendationRow.of(i, policy_version=1) for i in items))
    override = {"verdict": Verdict.OVERRIDE, "final_action": "deny_claim"}
    decisions = [
        create_decision(1),
        create_decision(2, **override),
        create_decision(3, recommendation_id="rec_3"),
        create_decision(4, recommendation_id="rec_2", verdict=Verdict.UNDO, reverts_id="dec_2"),
        create_decision(5, recommendation_id="rec_2"),
        create_decision(6, recommendation_id="rec_3", **override),
        create_decision(7, recommendation_id="rec_4", automated=True, actor_id=None),
        create_decision(8, recommendation_id="rec_5"),
        create_decision(9, recommendation_id="rec_6", **override),
    ]
    seq = [dataclasses.replace(d, seq=i + 1) for i, d in enumerate(decisions)]
    await write(database, *(DecisionRow.of(d) for d in seq))


async def test_streamed_rows_are_the_typed_rows_decoded_in_bulk(database: Database) -> None:
    await create_log(database)
    async with database.read_sessions()() as session:
        reads = LearningReads(session)
        typed = [tuple(row) for row in await reads.learning_rows("wf_claims")]
        batches = [rows async for rows in reads.stream_learning_rows("wf_claims", batch=2)]
    streamed = [row for rows in batches for row in rows]
    assert [len(rows) for rows in batches] == [2, 2]
    assert streamed == typed
    payloads = [row[0] for row in streamed]
    assert payloads[0] == {"amount": 120, "tags": ["a", "b"], "owner": {"age": 41.5}}
    assert payloads[-1] == {"amount": BIG, "note": 'says "hello", ünïcode ✓'}
    assert [(row[2], row[3]) for row in streamed] == [
        ("APPROVE", "approve_claim"),  # rec_1
        ("APPROVE", "approve_claim"),  # rec_2: its override undone, approved again
        ("OVERRIDE", "deny_claim"),  # rec_3: the later decision
        ("OVERRIDE", "deny_claim"),  # rec_6
    ]
    times = [row[4] for row in streamed]
    assert times == [NOW + timedelta(minutes=m) for m in (1, 5, 6, 9)]
    assert all(t.tzinfo is UTC for t in times)
