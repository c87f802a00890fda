"""Subscriptions over a real socket, spoken by hand with `websockets`: both protocols,
jobProgress, errors that must not hang, at-least-once redelivery and abrupt disconnects."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from domain.clock import utcnow
from domain.events import QueueEvent, QueueEventKind
from domain.jobs import Job, JobKind
from domain.messages import MESSAGE_VERSION
from tests.factories import create_user
from tests.live.helpers import create_live_workflow, server_post
from workers.execute import execute_job
from workers.outbox import queue_envelope

TIMEOUT = 10.0
QUEUE_EVENTS = """subscription($wf: String!) {
  queueEvents(workflow: $wf) { id kind recommendation { id status tier } }
}"""
JOB_PROGRESS = """subscription($id: ID!) {
  jobProgress(id: $id) { id kind state progress message finishedAt }
}"""


class Socket:
    """A GraphQL WebSocket client for one protocol: "graphql-transport-ws" or "graphql-ws"."""

    def __init__(self, ws: ClientConnection, protocol: str) -> None:
        self.ws = ws
        self.protocol = protocol

    @classmethod
    async def open(cls, server: Any, token: str, protocol: str = "graphql-transport-ws") -> Socket:
        ws = await connect(
            server.websocket, subprotocols=[Subprotocol(protocol)], open_timeout=TIMEOUT, proxy=None
        )
        assert ws.subprotocol == protocol
        socket = cls(ws, protocol)
        await socket.send(
            {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
        )
        ack = await socket.receive()
        assert ack["type"] == "connection_ack", ack
        return socket

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def receive(self, timeout: float = TIMEOUT) -> dict[str, Any]:
        """The next message, skipping keep-alives."""
        async with asyncio.timeout(timeout):
            while True:
                message = json.loads(await self.ws.recv())
                if message["type"] not in ("ka", "ping", "pong"):
                    return dict(message)

    async def subscribe(self, operation_id: str, query: str, variables: dict[str, Any]) -> None:
        kind = "subscribe" if self.protocol == "graphql-transport-ws" else "start"
        payload = {"query": query, "variables": variables}
        await self.send({"type": kind, "id": operation_id, "payload": payload})

    async def next_payload(self, operation_id: str, timeout: float = TIMEOUT) -> dict[str, Any]:
        """The next result of this operation; fails on anything else."""
        message = await self.receive(timeout)
        data_type = "next" if self.protocol == "graphql-transport-ws" else "data"
        assert message["type"] == data_type and message["id"] == operation_id, message
        return dict(message["payload"])

    async def failure(self, operation_id: str, timeout: float = 5.0) -> list[dict[str, Any]]:
        """The errors that end this operation: an `error` message, or a result with errors
        and no data followed by `complete`. Fails on anything else (and on a hang)."""
        message = await self.receive(timeout)
        assert message.get("id") == operation_id, message
        if message["type"] == "error":
            return list(message["payload"])
        assert message["type"] in ("next", "data"), message
        assert message["payload"].get("data") is None, message
        assert message["payload"].get("errors"), message
        ending = await self.receive(timeout)
        assert ending == {"type": "complete", "id": operation_id}, ending
        return list(message["payload"]["errors"])

    async def close(self) -> None:
        await self.ws.close()


async def submit(server: Any, token: str, workflow: str, confidence: float = 0.8) -> str:
    data = await server_post(
        server,
        token,
        "mutation($wf: String!, $c: Float!) { submitRecommendations(workflow: $wf, "
        'items: [{payload: {}, proposedAction: "A", confidence: $c}]) { '
        "... on SubmitSuccess { recommendations { id } } } }",
        {"wf": workflow, "c": confidence},
    )
    return str(data["submitRecommendations"]["recommendations"][0]["id"])


async def hub_holds(server: Any, count: int, timeout: float = 5.0) -> None:
    """Wait until the server's bus has exactly `count` local subscribers."""
    subscribers = server.services.bus.subscribers
    try:
        async with asyncio.timeout(timeout):
            while len(subscribers) != count:
                await asyncio.sleep(0.02)
    except TimeoutError:
        pytest.fail(f"the hub holds {len(subscribers)} subscribers after {timeout}s, not {count}")


async def test_the_legacy_graphql_ws_protocol_delivers_events(live_server):
    admin = await create_user(live_server.services, "admin")
    await create_live_workflow(live_server, admin, "legacy")
    socket = await Socket.open(live_server, admin, "graphql-ws")
    try:
        await socket.subscribe("1", QUEUE_EVENTS, {"wf": "legacy"})
        await hub_holds(live_server, 1)
        item = await submit(live_server, admin, "legacy")
        payload = await socket.next_payload("1")
        assert not payload.get("errors"), payload
        event = payload["data"]["queueEvents"]
        assert event["kind"] == "ADDED"
        assert event["recommendation"] == {
            "id": item,
            "status": "PENDING",
            "tier": "ANALYST_REVIEW",
        }

        await socket.send({"type": "stop", "id": "1"})
        await hub_holds(live_server, 0)
    finally:
        await socket.close()


async def test_job_progress_streams_a_job_until_it_ends(live_server):
    services = live_server.services
    admin = await create_user(services, "admin")
    job = Job.new(JobKind.SLA_SWEEP, utcnow())
    async with services.unit_of_work() as uow:
        await uow.jobs.add(job)
        await uow.commit()
    socket = await Socket.open(live_server, admin)
    try:
        await socket.subscribe("job", JOB_PROGRESS, {"id": job.id})
        first = (await socket.next_payload("job"))["data"]["jobProgress"]
        assert (first["id"], first["state"], first["progress"]) == (job.id, "QUEUED", 0.0)

        await execute_job(services, job.id)
        states = [first]
        while True:
            message = await socket.receive()
            if message["type"] == "complete":
                break
            assert message["type"] == "next" and message["id"] == "job", message
            assert not message["payload"].get("errors"), message
            states.append(message["payload"]["data"]["jobProgress"])
        await hub_holds(live_server, 0)  # the ended stream let go of the bus
    finally:
        await socket.close()

    last = states[-1]
    assert (last["state"], last["progress"]) == ("SUCCEEDED", 1.0), states
    assert last["finishedAt"] is not None
    assert last["kind"] == "SLA_SWEEP"
    assert "RUNNING" in [s["state"] for s in states], states
    assert [s["state"] for s in states].count("SUCCEEDED") == 1, states
    progress = [s["progress"] for s in states]
    assert progress == sorted(progress), states


async def test_job_progress_is_for_admins_only(live_server):
    services = live_server.services
    senior = await create_user(services, "senior")
    job = Job.new(JobKind.SLA_SWEEP, utcnow())
    async with services.unit_of_work() as uow:
        await uow.jobs.add(job)
        await uow.commit()
    socket = await Socket.open(live_server, senior)
    try:
        await socket.subscribe("job", JOB_PROGRESS, {"id": job.id})
        errors = await socket.failure("job")
    finally:
        await socket.close()
    assert errors[0]["extensions"]["code"] == "FORBIDDEN", errors
    assert len(live_server.services.bus.subscribers) == 0


@pytest.mark.parametrize("protocol", ["graphql-transport-ws", "graphql-ws"])
async def test_an_unknown_workflow_is_an_error_not_a_hang(live_server, protocol):
    admin = await create_user(live_server.services, "admin")
    socket = await Socket.open(live_server, admin, protocol)
    try:
        await socket.subscribe("q", QUEUE_EVENTS, {"wf": "no-such-workflow"})
        errors = await socket.failure("q")
    finally:
        await socket.close()
    assert errors[0]["extensions"]["code"] == "NOT_FOUND", errors
    assert "no-such-workflow" in errors[0]["message"]
    await hub_holds(live_server, 0)


async def test_an_event_delivered_twice_by_the_bus_reaches_a_subscriber_once(live_server):
    services = live_server.services
    admin = await create_user(services, "admin")
    await create_live_workflow(live_server, admin, "twice")
    socket = await Socket.open(live_server, admin)
    try:
        await socket.subscribe("q", QUEUE_EVENTS, {"wf": "twice"})
        await hub_holds(live_server, 1)
        item = await submit(live_server, admin, "twice")
        added = (await socket.next_payload("q"))["data"]["queueEvents"]
        assert added["kind"] == "ADDED"

        recommendation = (await services.read(lambda r: r.recommendations([item])))[item]
        duplicated = QueueEvent.of(QueueEventKind.FLAGGED, recommendation, utcnow())
        envelope = queue_envelope(duplicated)
        await services.bus.publish([envelope, envelope])  # twice in one delivery
        await services.bus.publish([envelope])  # and again later
        sentinel = QueueEvent.of(QueueEventKind.RELEASED, recommendation, utcnow())
        await services.bus.publish([queue_envelope(sentinel)])

        first = (await socket.next_payload("q"))["data"]["queueEvents"]
        second = (await socket.next_payload("q"))["data"]["queueEvents"]
    finally:
        await socket.close()
    assert (first["id"], first["kind"]) == (duplicated.id, "FLAGGED")
    assert (second["id"], second["kind"]) == (sentinel.id, "RELEASED")


async def test_a_message_of_another_version_is_skipped_and_the_subscription_goes_on(live_server):
    services = live_server.services
    admin = await create_user(services, "admin")
    await create_live_workflow(live_server, admin, "versions")
    item = await submit(live_server, admin, "versions")
    recommendation = (await services.read(lambda r: r.recommendations([item])))[item]
    flagged = queue_envelope(QueueEvent.of(QueueEventKind.FLAGGED, recommendation, utcnow()))
    unreadable = replace(flagged, data={**flagged.data, "version": MESSAGE_VERSION + 1})
    sentinel = QueueEvent.of(QueueEventKind.RELEASED, recommendation, utcnow())
    socket = await Socket.open(live_server, admin)
    try:
        await socket.subscribe("q", QUEUE_EVENTS, {"wf": "versions"})
        await hub_holds(live_server, 1)
        await services.bus.publish([unreadable, queue_envelope(sentinel)])
        after = (await socket.next_payload("q"))["data"]["queueEvents"]
        while after["kind"] == "ADDED":  # the submission's own event may come late
            after = (await socket.next_payload("q"))["data"]["queueEvents"]
    finally:
        await socket.close()
    assert (after["id"], after["kind"]) == (sentinel.id, "RELEASED")


async def test_a_subscriber_that_goes_away_abruptly_leaves_the_hub(live_server):
    admin = await create_user(live_server.services, "admin")
    await create_live_workflow(live_server, admin, "gone")
    polite = await Socket.open(live_server, admin)
    rude = await Socket.open(live_server, admin, "graphql-ws")
    await polite.subscribe("a", QUEUE_EVENTS, {"wf": "gone"})
    await rude.subscribe("b", QUEUE_EVENTS, {"wf": "gone"})
    await hub_holds(live_server, 2)

    await polite.close()  # a close frame, but no "complete" for its subscription
    await hub_holds(live_server, 1)
    rude.ws.transport.abort()  # no close frame at all: the TCP connection just drops
    await hub_holds(live_server, 0)

    # the server still serves the others
    item = await submit(live_server, admin, "gone")
    assert item.startswith("rec_")


async def test_idle_subscribers_hold_no_database_connection(live_server):
    """Neither before their first event nor between events (after resolving one's
    actor and decision) do idle subscribers keep a read connection."""
    admin = await create_user(live_server.services, "admin")
    await create_live_workflow(live_server, admin, "idle")
    pool = live_server.services.database.read_engine.pool
    query = """subscription($wf: String!) {
      queueEvents(workflow: $wf) { id actor { name } decision { verdict } }
    }"""

    async def none_checked_out(when: str) -> None:
        # background work (the outbox relay) borrows connections briefly; idle means none
        try:
            async with asyncio.timeout(1.5):
                while pool.checkedout() > 0:
                    await asyncio.sleep(0.02)
        except TimeoutError:
            pytest.fail(f"{when}, 3 idle subscribers hold {pool.checkedout()} read connections")

    sockets = [await Socket.open(live_server, admin) for _ in range(3)]
    try:
        for socket in sockets:
            await socket.subscribe("q", query, {"wf": "idle"})
        await hub_holds(live_server, 3)
        await none_checked_out("before any event")
        await submit(live_server, admin, "idle")
        for socket in sockets:
            await socket.next_payload("q")
        await none_checked_out("after an event")
    finally:
        for socket in sockets:
            await socket.close()


async def test_several_subscriptions_started_at_once_on_one_connection_all_deliver(live_server):
    # Their operations share the connection's context; each closes its read session when
    # it has started, and one closing must not break the others.
    admin = await create_user(live_server.services, "admin")
    keys = [f"together-{n}" for n in range(4)]
    for key in keys:
        await create_live_workflow(live_server, admin, key)
    socket = await Socket.open(live_server, admin)
    try:
        for n, key in enumerate(keys):
            await socket.subscribe(str(n), QUEUE_EVENTS, {"wf": key})
        await hub_holds(live_server, len(keys))
        items = {key: await submit(live_server, admin, key) for key in keys}
        received = {}
        for _ in keys:
            message = await socket.receive()
            assert message["type"] == "next", message
            event = message["payload"]["data"]["queueEvents"]
            received[message["id"]] = event["recommendation"]["id"]
    finally:
        await socket.close()

    assert received == {str(n): items[key] for n, key in enumerate(keys)}
