"""store.bulk_insert: rows inserted in bulk (on PostgreSQL by the driver's executemany,
elsewhere by Core) read back exactly as a Core insert of the same rows writes them; a
duplicate key is the IntegrityError a retry looks for, and writes nothing; a row that
leaves out a column with a default still gets the default."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from domain.events import QueueEvent, QueueEventKind
from store.bulk_insert import insert_many
from store.conflicts import is_transient_conflict
from store.database import Database
from store.tables import (
    DecisionRow,
    EventRow,
    RecommendationRow,
    decisions_t,
    events_t,
    recs_t,
)
from tests.store.test_mappings import (
    AT,
    ELSEWHERE,
    create_decision,
    create_recommendation,
    read,
    write_parents,
)


async def test_rows_inserted_in_bulk_read_back_as_a_core_insert_writes_them(
    database: Database,
) -> None:
    await write_parents(database)  # rec_1, by a Core insert
    item = dataclasses.replace(
        create_recommendation(),
        id="rec_2",
        external_id="e-2",
        created_at=AT.astimezone(ELSEWHERE),
        sla_due_at=None,
        claim=None,
        draft=None,
        explanation=[],
    )
    plain = dataclasses.replace(create_recommendation(), id="rec_3", external_id="e-3")
    event = QueueEvent("evt_1", QueueEventKind.DECIDED, "wf_1", plain, AT, "usr_1", "dec_1")
    decision = create_decision()
    async with database.write_sessions()() as session:
        await insert_many(session, recs_t, [RecommendationRow.values(i, 1) for i in (item, plain)])
        await insert_many(session, events_t, [EventRow.values(event)])
        await insert_many(session, decisions_t, [DecisionRow.values(decision)])
        await session.commit()

    core = (await read(database, RecommendationRow, recs_t.c.id == "rec_1")).to_domain()
    bulk = (await read(database, RecommendationRow, recs_t.c.id == "rec_3")).to_domain()
    assert dataclasses.replace(bulk, id="rec_1", external_id="e-1") == core
    other = (await read(database, RecommendationRow, recs_t.c.id == "rec_2")).to_domain()
    assert other == dataclasses.replace(item, created_at=AT)
    assert other.created_at.utcoffset() == timedelta(0)
    stored_event = (await read(database, EventRow)).to_domain()
    assert stored_event.kind is QueueEventKind.DECIDED
    assert stored_event.recommendation.payload == plain.payload
    assert (await read(database, DecisionRow)).to_domain() == decision


async def test_a_duplicate_key_in_a_bulk_insert_is_a_retryable_integrity_error_that_writes_nothing(
    database: Database,
) -> None:
    await write_parents(database)
    twins = [
        dataclasses.replace(create_recommendation(), id="rec_9", external_id=f"e-9{n}")
        for n in range(2)
    ]
    async with database.write_sessions()() as session:
        with pytest.raises(IntegrityError) as raised:
            await insert_many(session, recs_t, [RecommendationRow.values(i, 1) for i in twins])
        await session.rollback()
    assert is_transient_conflict(raised.value)
    async with database.read_sessions()() as session:
        count = await session.scalar(sa.select(sa.func.count()).select_from(recs_t))
    assert count == 1


async def test_a_row_that_leaves_out_a_column_with_a_default_gets_the_default(
    database: Database,
) -> None:
    await write_parents(database)
    row = RecommendationRow.values(
        dataclasses.replace(create_recommendation(), id="rec_4", external_id="e-4"), 1
    )
    del row["version"], row["policy_version"]
    async with database.write_sessions()() as session:
        await insert_many(session, recs_t, [row])
        await session.commit()
    stored = await read(database, RecommendationRow, recs_t.c.id == "rec_4")
    assert (stored.version, stored.policy_version) == (1, 1)
