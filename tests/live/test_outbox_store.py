"""The outbox's store: events taken in commit order, marked only if the bus takes them,
and snapshots stored before today's form still read."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import sqlalchemy as sa

from domain.clock import utcnow
from domain.messages import MessageType, decode_queue_event
from store.outbox import SqlOutbox
from store.tables import events_t
from tests.factories import create_user, create_workflow, proposal, submit
from workers.bus import Envelope, Subscription
from workers.outbox import OutboxPublisher, message_envelope


async def stored_rows(gql) -> list[sa.Row]:
    async with gql.services.database.read_engine.connect() as connection:
        return list(await connection.execute(sa.select(events_t).order_by(events_t.c.seq)))


async def store_again_unpublished(gql, row: sa.Row, event_id: str, snapshot: dict) -> str:
    """A copy of an event row, not yet published, about an item of its own (so that the
    app's publisher, busy with the original item, leaves it alone); the item's id."""
    item_id = f"rec_{event_id}"
    values = {name: value for name, value in row._mapping.items() if name != "seq"}
    values.update(id=event_id, published_at=None, at=utcnow(), recommendation_id=item_id)
    values["recommendation"] = {**snapshot, "id": item_id}
    async with gql.services.database.write_engine.begin() as connection:
        await connection.execute(events_t.insert().values(**values))
    return item_id


async def submitted_event_row(gql) -> sa.Row:
    admin = await create_user(gql.services, "admin")
    workflow = await create_workflow(gql, admin)
    result = await submit(gql, admin, workflow["key"], proposal(0.8, subject="Ada"))
    assert result["__typename"] == "SubmitSuccess"
    rows = await stored_rows(gql)
    assert rows and rows[-1].recommendation["canary"] is False
    return rows[-1]


async def test_an_event_stored_before_canaries_is_published_and_read_as_a_real_item(gql):
    row = await submitted_event_row(gql)
    old = {**row.recommendation, "due_sort": row.recommendation["sla_due_at"]}
    del old["canary"], old["canary_of"]
    item_id = await store_again_unpublished(gql, row, "evt_old_form", old)

    outbox = SqlOutbox(gql.services.database)
    async with outbox.take_unpublished(recommendation_ids=[item_id]) as messages:
        assert [m.id for m in messages] == ["evt_old_form"]
        envelope = message_envelope(messages[0])
    event = decode_queue_event(envelope.data)
    assert event.recommendation.id == item_id
    assert event.recommendation.subject == "Ada"
    assert (event.recommendation.canary, event.recommendation.canary_of) == (False, None)
    async with gql.services.unit_of_work() as uow:  # as webhook delivery reads it
        stored = await uow.webhooks.event("evt_old_form")
    assert stored is not None and stored.recommendation == event.recommendation


async def test_events_stay_unpublished_when_the_bus_refuses_them(gql):
    row = await submitted_event_row(gql)
    item_id = await store_again_unpublished(gql, row, "evt_refused", row.recommendation)
    outbox = SqlOutbox(gql.services.database)
    chosen = {"recommendation_ids": [item_id], "committed_by": utcnow() + timedelta(hours=1)}
    with pytest.raises(ConnectionError):
        async with outbox.take_unpublished(**chosen) as taken:
            assert [m.id for m in taken] == ["evt_refused"]
            raise ConnectionError("the bus is down")
    again = [m.id for m in await outbox.committed_since(utcnow() - timedelta(hours=1))]
    assert "evt_refused" in again
    async with outbox.take_unpublished(**chosen) as retaken:
        assert [m.id for m in retaken] == ["evt_refused"]
    async with outbox.take_unpublished(**chosen) as nothing:
        assert nothing == []


async def test_events_whose_snapshots_are_known_are_taken_with_them_and_the_rest_read_back(gql):
    row = await submitted_event_row(gql)
    known_item = await store_again_unpublished(gql, row, "evt_known", row.recommendation)
    stored_item = await store_again_unpublished(gql, row, "evt_stored", row.recommendation)
    known = {"evt_known": {"id": known_item, "as": "written"}}
    outbox = SqlOutbox(gql.services.database)
    async with outbox.take_unpublished(
        recommendation_ids=[known_item, stored_item], known=known
    ) as messages:
        by_id = {m.id: m for m in messages}
    assert by_id["evt_known"].snapshot is known["evt_known"]
    assert by_id["evt_stored"].snapshot == {**row.recommendation, "id": stored_item}
    assert [m.seq for m in messages] == sorted(m.seq for m in messages)


async def test_the_publisher_sends_what_the_outbox_stored_though_it_never_reads_it_back(gql):
    admin = await create_user(gql.services, "admin")
    workflow = await create_workflow(gql, admin)
    subscription = gql.services.bus.subscribe()
    try:
        result = await submit(gql, admin, workflow["key"], proposal(0.95), proposal(0.4))
        assert result["__typename"] == "SubmitSuccess"
        # Each item ADDED, then DECIDED by the ladder (approved at 0.95, rejected at 0.4).
        published = await queue_envelopes(subscription, 4)
    finally:
        subscription.close()
    outbox = SqlOutbox(gql.services.database)
    stored = {m.id: m for m in await outbox.committed_since(utcnow() - timedelta(hours=1))}
    assert {e.id for e in published} == set(stored)
    for envelope in published:
        assert envelope.data == message_envelope(stored[envelope.id]).data


async def queue_envelopes(subscription: Subscription, count: int) -> list[Envelope]:
    heard: list[Envelope] = []

    async def listen() -> None:
        async for envelope in subscription:
            if envelope.type == MessageType.QUEUE.value:
                heard.append(envelope)
                if len(heard) == count:
                    return

    await asyncio.wait_for(listen(), timeout=10)
    return heard


class HeldBus:
    """A bus whose publish waits until released."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.release = asyncio.Event()
        self.published: list[Envelope] = []

    async def publish(self, envelopes: list[Envelope]) -> None:
        self.entered.set()
        await self.release.wait()
        self.published.extend(envelopes)


async def test_a_stopping_publisher_finishes_the_publish_under_way_and_its_marks_hold(gql):
    row = await submitted_event_row(gql)
    item_id = await store_again_unpublished(gql, row, "evt_stopping", row.recommendation)
    bus = HeldBus()
    publisher = OutboxPublisher(gql.services.database, bus, relay_every=3600)  # type: ignore[arg-type]
    await publisher.start()
    publisher.notify([item_id])
    await asyncio.wait_for(bus.entered.wait(), timeout=5)

    stopping = asyncio.create_task(publisher.stop())
    await asyncio.sleep(0.1)
    assert not stopping.done()
    bus.release.set()
    await asyncio.wait_for(stopping, timeout=10)

    assert [e.id for e in bus.published] == ["evt_stopping"]
    stored = {r.id: r for r in await stored_rows(gql)}
    assert stored["evt_stopping"].published_at is not None
