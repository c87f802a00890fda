"""Redis stopped for ARBITER_RELIABILITY_REDIS_OUTAGE_SECONDS (30) in the middle of the load.

Two `arbiter serve` processes share one PostgreSQL database and a redis-server of
this test's own; a subscriber on queueEvents is connected to the first process.
Reviewers on both keep deciding while Redis is down, and every decision succeeds.
After Redis returns, every event the outbox holds for the workflow since the
subscription began (CLAIMED, RELEASED, DECIDED) reaches the subscriber,
deduplicated by event id; in particular the DECIDED event of every acknowledged
decision.

Scale: ARBITER_RELIABILITY_REDIS_ITEMS (600) items, ARBITER_RELIABILITY_REVIEWERS (50)
reviewers, paced so that the load lasts the outage and then some.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from tests.live.conftest import free_port
from tests.live.helpers import subscribe
from tests.live.test_replicas_and_redis_faults import own_redis, wait_for_redis
from tests.reliability.cluster import (
    CLAIM_NEXT,
    Load,
    Monitor,
    arbiter_process,
    call,
    check_log,
    env_float,
    env_int,
    http_client,
    prepare,
    rate,
)

ITEMS = env_int("ARBITER_RELIABILITY_REDIS_ITEMS", 600)
REVIEWERS = env_int("ARBITER_RELIABILITY_REVIEWERS", 50)
OUTAGE = env_float("ARBITER_RELIABILITY_REDIS_OUTAGE_SECONDS", 30)
LEAD = 3.0  # seconds of load before Redis stops

RELEASE = "mutation($id: ID!) { release(id: $id) { __typename } }"
EVENTS = """subscription($wf: String!) {
  queueEvents(workflow: $wf) { id kind recommendation { id } }
}"""


async def _events_in_outbox(
    database_url: str, workflow: str, after_seq: int = 0
) -> dict[str, tuple[str, str | None, int]]:
    """event id -> (kind, decision id, seq) for the workflow's outbox events after a seq."""
    engine = create_async_engine(database_url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                sa.text(
                    "SELECT e.id, e.kind, e.decision_id, e.seq FROM events e "
                    "JOIN workflows w ON w.id = e.workflow_id "
                    "WHERE w.key = :key AND e.seq > :after"
                ),
                {"key": workflow, "after": after_seq},
            )
            return {row.id: (row.kind, row.decision_id, row.seq) for row in rows}
    finally:
        await engine.dispose()


async def test_decisions_succeed_through_a_redis_outage_and_every_event_arrives_after(
    fresh_pg: str, tmp_path: Path
):
    port = free_port()
    redis_url = f"redis://127.0.0.1:{port}/0"
    redis = own_redis(port)
    redis.__enter__()
    redis_up = True
    try:
        await wait_for_redis(port)
        settings = {"redis_url": redis_url, "outbox_relay_seconds": 0.5}
        async with (
            arbiter_process("one", fresh_pg, tmp_path, **settings) as one,
            arbiter_process("two", fresh_pg, tmp_path, **settings) as two,
        ):
            fixture = await prepare(fresh_pg, two, "outage", ITEMS, REVIEWERS)
            # The events to come: those after the submission's ADDED events.
            before = await _events_in_outbox(fresh_pg, "outage")
            baseline = max(seq for _, _, seq in before.values())
            received: dict[str, dict[str, Any]] = {}
            deliveries = 0
            async with subscribe(one.websocket, fixture.admin, EVENTS, {"wf": "outage"}) as sub:
                # Once a claim made through the other process reaches the subscriber, the
                # subscription is live (and the item is given back for the load).
                async with http_client(2) as http:
                    token = fixture.reviewers[-1]
                    probe = await call(http, two.graphql, token, CLAIM_NEXT, {"wf": "outage"})
                    item = probe["claimNext"]["recommendation"]["id"]
                    first = await sub.next(timeout=30)
                    assert first["data"]["queueEvents"]["recommendation"]["id"] == item, first
                    received[first["data"]["queueEvents"]["id"]] = first["data"]["queueEvents"]
                    deliveries += 1
                    await call(http, two.graphql, token, RELEASE, {"id": item})

                async def collect() -> None:
                    nonlocal deliveries
                    while True:
                        payload = await sub.events.get()
                        assert "errors" not in payload, payload
                        event = payload["data"]["queueEvents"]
                        received[event["id"]] = event
                        deliveries += 1

                collector = asyncio.create_task(collect())
                # Spread the decisions over the outage and a little on either side.
                pace = REVIEWERS * (OUTAGE + LEAD + 4) / ITEMS
                load = Load(
                    fixture,
                    [one, two],
                    Monitor(fresh_pg, "outage"),
                    pace_seconds=pace,
                )

                async def outage() -> tuple[float, float]:
                    await asyncio.sleep(LEAD)
                    nonlocal redis, redis_up
                    redis.__exit__(None, None, None)
                    redis_up = False
                    stopped = time.monotonic()
                    await asyncio.sleep(OUTAGE)
                    redis = own_redis(port)
                    redis.__enter__()
                    redis_up = True
                    await wait_for_redis(port)
                    return stopped, time.monotonic()

                fault = asyncio.create_task(outage())
                seconds = await load.run(600)
                stopped_at, back_at = await fault
                load_ended = time.monotonic()

                # Every event since the subscription reaches it once Redis is back.
                outbox = await _events_in_outbox(fresh_pg, "outage", baseline)
                deadline = time.monotonic() + 120
                while set(outbox) - set(received) and time.monotonic() < deadline:
                    if collector.done():
                        collector.result()  # raises what stopped it
                    await asyncio.sleep(0.2)
                delivered_in = time.monotonic() - max(back_at, load_ended)
                collector.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await collector
    finally:
        if redis_up:
            redis.__exit__(None, None, None)

    ledger = load.ledger
    assert not ledger.transport_errors, ledger.transport_errors
    checked = await check_log(fresh_pg, fixture, ledger)
    assert checked.decided_without_ack == set()
    during = sum(1 for t in ledger.acked_times if stopped_at <= t <= back_at)
    assert during >= ITEMS * 0.2, f"only {during} decisions were made while Redis was down"

    missing = set(outbox) - set(received)
    assert not missing, f"{len(missing)} of {len(outbox)} events never arrived"
    decided_events = {dec for kind, dec, _ in outbox.values() if kind == "DECIDED"}
    assert set(ledger.acked) <= decided_events
    kinds = {received[e]["kind"] for e in outbox}
    assert {"CLAIMED", "RELEASED", "DECIDED"} <= kinds
    print(
        f"\n[redis outage] items={ITEMS}, reviewers={REVIEWERS}, outage={OUTAGE:.0f}s, "
        f"load={seconds:.1f}s, decisions={rate(len(ledger.acked), seconds)}, "
        f"decided while Redis was down={during}, events in outbox={len(outbox)}, "
        f"deliveries={deliveries} (distinct {len(received)}), "
        f"all delivered {max(delivered_in, 0.0):.1f}s after Redis was back and the load ended"
    )
