"""Webhooks end to end: a real receiver on 127.0.0.1 gets signed POSTs, retried with backoff.

Deliveries run as jobs after the change commits: in-process on the embedded
default, and through an arq burst worker on a real Redis.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from arq.worker import create_worker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.services import runtime_options
from domain.webhooks import verify
from store.log_keys import verify_signature
from tests.api.test_no_n_plus_one import StatementCounter
from tests.conftest import make_settings
from tests.factories import create_user, create_workflow, submit_one
from tests.live.conftest import LiveServer, free_port
from workers.worker import worker_settings

WAIT = 10.0  # seconds: the bound on every wait in this file

# ---------------------------------------------------------------- a webhook receiver

HANG = "hang"  # answer nothing for longer than the sender's timeout


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def json(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


@dataclass
class Receiver:
    """Records every request; answers the n-th one (1-based) with plan[n - 1], the last
    entry repeating: an HTTP status, or HANG."""

    plan: list[int | str]
    url: str = ""
    received: list[Received] = field(default_factory=list)
    hang_seconds: float = 1.0

    def to(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        self.received.append(
            Received(request.url.path, dict(request.headers), body, time.monotonic())
        )
        answer = self.plan[min(len(self.received), len(self.plan)) - 1]
        if answer == HANG:
            await asyncio.sleep(self.hang_seconds)
            answer = 200
        return Response(status_code=int(answer))

    async def wait_for(self, count: int, path: str | None = None) -> list[Received]:
        async with asyncio.timeout(WAIT):
            while True:
                got = self.to(path) if path else self.received
                if len(got) >= count:
                    return got
                await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def receiver(*plan: int | str) -> AsyncIterator[Receiver]:
    """A tiny HTTP server on a free port of 127.0.0.1 (uvicorn with a Starlette app)."""
    recorder = Receiver(list(plan) or [200])
    app = Starlette(routes=[Route("/{path:path}", recorder.handle, methods=["POST"])])
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(WAIT):
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
    recorder.url = f"http://127.0.0.1:{port}"
    try:
        yield recorder
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=WAIT)


# ---------------------------------------------------------------- GraphQL over real HTTP


class LiveGraphQL:
    """The tests' `gql(query, variables, token=...)` shape, against the live server."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.services = server.services

    async def post(self, query: str, variables: dict[str, Any] | None, token: str) -> Any:
        async with httpx.AsyncClient(timeout=WAIT) as http:
            response = await http.post(
                self.server.graphql,
                json={"query": query, "variables": variables or {}},
                headers={"Authorization": f"Bearer {token}"},
            )
        assert response.status_code == 200, response.text
        return response.json()

    async def __call__(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str
    ) -> dict[str, Any]:
        body = await self.post(query, variables, token)
        assert not body.get("errors"), body["errors"]
        return dict(body["data"])


CREATE_WEBHOOK = """
mutation($wf: String!, $url: String!, $events: [QueueEventKind!]!) {
  createWebhook(workflow: $wf, url: $url, events: $events) {
    __typename
    ... on WebhookSuccess {
      secret
      webhook { id url events active createdAt workflow { key } deliveries { eventId } }
    }
    ... on Problem { message }
    ... on InvalidInput { field }
  }
}
"""

DELETE_WEBHOOK = """
mutation($id: ID!) {
  deleteWebhook(id: $id) {
    __typename
    ... on WebhookSuccess { secret webhook { id active } }
    ... on Problem { message }
  }
}
"""

WEBHOOKS = """
query($wf: String!, $all: Boolean! = false, $first: Int = 20) {
  webhooks(workflow: $wf, includeDeleted: $all) {
    id url events active
    deliveries(first: $first) {
      eventId eventKind status attempts lastError lastAttemptAt deliveredAt nextAttemptAt
    }
  }
}
"""

APPROVE = "mutation($id: ID!) { approve(id: $id) { __typename ... on Problem { message } } }"


async def add_webhook(
    gql: Any, admin: str, workflow: str, url: str, events: list[str]
) -> dict[str, Any]:
    """Returns {"id", "secret", ...} of a new webhook."""
    data = await gql(CREATE_WEBHOOK, {"wf": workflow, "url": url, "events": events}, token=admin)
    result = data["createWebhook"]
    assert result["__typename"] == "WebhookSuccess", result
    return {**result["webhook"], "secret": result["secret"]}


async def hooks(gql: Any, admin: str, workflow: str, **variables: Any) -> list[dict[str, Any]]:
    data = await gql(WEBHOOKS, {"wf": workflow, **variables}, token=admin)
    return list(data["webhooks"])


async def submit_and_approve(gql: Any, admin: str, workflow: str) -> str:
    """An ANALYST_REVIEW item (ADDED), approved by the admin (DECIDED); returns its id."""
    item = await submit_one(gql, admin, workflow, confidence=0.8)
    result = (await gql(APPROVE, {"id": item["id"]}, token=admin))["approve"]
    assert result["__typename"] == "DecisionSuccess", result
    return str(item["id"])


async def settle_jobs(server: LiveServer) -> None:
    """In-process jobs, including deferred retries, have all finished."""
    async with asyncio.timeout(WAIT):
        await server.services.jobs.drain()


async def world(server: LiveServer) -> tuple[LiveGraphQL, str, str]:
    gql = LiveGraphQL(server)
    admin = await create_user(server.services, "admin")
    workflow = await create_workflow(gql, admin)
    return gql, admin, str(workflow["key"])


def assert_signed_decided_event(got: Received, secret: str, workflow: str, item: str) -> None:
    assert got.headers["content-type"] == "application/json"
    assert got.headers["x-arbiter-signature"].startswith("sha256=")
    assert verify(secret, got.body, got.headers["x-arbiter-signature"])
    assert not verify(secret + "x", got.body, got.headers["x-arbiter-signature"])
    event = got.json
    assert event["id"] == got.headers["x-arbiter-event-id"]
    assert event["kind"] == "DECIDED"
    assert event["workflow"] == workflow
    assert event["recommendation"]["id"] == item
    assert event["recommendation"]["status"] == "APPROVED"
    assert event["decision"]["verdict"] == "APPROVE"
    assert event["decision"]["finalAction"] == "A"


# ---------------------------------------------------------------- in-process jobs


async def test_a_failed_delivery_is_retried_with_the_same_event_id_and_a_verifiable_signature(
    live_server_factory,
):
    async with (
        receiver(500, 200) as target,
        live_server_factory(webhook_retry_seconds=0.2) as server,
    ):
        gql, admin, workflow = await world(server)
        hook = await add_webhook(gql, admin, workflow, f"{target.url}/hook", ["DECIDED"])
        assert hook["secret"] and len(hook["secret"]) >= 32
        assert (hook["url"], hook["events"], hook["active"]) == (
            f"{target.url}/hook",
            ["DECIDED"],
            True,
        )
        assert hook["workflow"] == {"key": workflow}
        assert hook["deliveries"] == []

        item = await submit_and_approve(gql, admin, workflow)
        first, retry = await target.wait_for(2)
        await settle_jobs(server)

        assert len(target.received) == 2  # ADDED is not subscribed; DECIDED twice
        event_id = first.headers["x-arbiter-event-id"]
        assert retry.headers["x-arbiter-event-id"] == event_id
        assert (
            first.headers["x-arbiter-delivery-attempt"],
            retry.headers["x-arbiter-delivery-attempt"],
        ) == ("1", "2")
        assert retry.body == first.body  # the same event, re-sent as it was
        assert retry.at - first.at >= 0.15  # ARBITER_WEBHOOK_RETRY_SECONDS later
        for got in (first, retry):
            assert_signed_decided_event(got, hook["secret"], workflow, item)

        [listed] = await hooks(gql, admin, workflow)
        assert listed["id"] == hook["id"]
        [delivery] = listed["deliveries"]
        assert delivery["eventId"] == event_id
        assert delivery["eventKind"] == "DECIDED"
        assert (delivery["status"], delivery["attempts"]) == ("DELIVERED", 2)
        # The failed first attempt stays on record; the status says it was delivered.
        assert delivery["lastError"] == "HTTP 500"
        assert delivery["deliveredAt"] == delivery["lastAttemptAt"] is not None
        assert delivery["nextAttemptAt"] is None


async def test_only_subscribed_event_kinds_are_delivered(live_server_factory):
    async with receiver(200) as target, live_server_factory() as server:
        gql, admin, workflow = await world(server)
        quiet = await add_webhook(
            gql, admin, workflow, f"{target.url}/quiet", ["FLAGGED", "ESCALATED"]
        )
        both = await add_webhook(
            gql, admin, workflow, f"{target.url}/both", ["DECIDED", "ADDED", "DECIDED"]
        )
        assert both["events"] == ["DECIDED", "ADDED"]  # deduplicated, in order
        item = await submit_and_approve(gql, admin, workflow)
        await target.wait_for(2, "/both")
        await settle_jobs(server)

        assert target.to("/quiet") == []
        kinds = [r.json["kind"] for r in target.to("/both")]
        assert sorted(kinds) == ["ADDED", "DECIDED"]
        assert all(
            verify(both["secret"], r.body, r.headers["x-arbiter-signature"])
            for r in target.to("/both")
        )
        added = next(r.json for r in target.to("/both") if r.json["kind"] == "ADDED")
        assert added["decision"] is None
        assert added["recommendation"]["id"] == item
        assert added["recommendation"]["status"] == "PENDING"

        by_id = {h["id"]: h for h in await hooks(gql, admin, workflow)}
        assert by_id[quiet["id"]]["deliveries"] == []
        deliveries = by_id[both["id"]]["deliveries"]
        assert [d["eventKind"] for d in deliveries] == ["DECIDED", "ADDED"]  # newest first
        assert {(d["status"], d["attempts"], d["lastError"]) for d in deliveries} == {
            ("DELIVERED", 1, None)
        }
        latest = await hooks(gql, admin, workflow, first=1)
        assert [len(h["deliveries"]) for h in latest] == [0, 1]


async def test_a_receiver_that_keeps_failing_is_given_up_after_the_max_attempts(
    live_server_factory,
):
    async with (
        receiver(503, 503, HANG) as target,
        live_server_factory(
            webhook_retry_seconds=0.1, webhook_max_attempts=3, webhook_timeout_seconds=0.3
        ) as server,
    ):
        target.hang_seconds = 1.0
        gql, admin, workflow = await world(server)
        await add_webhook(gql, admin, workflow, f"{target.url}/down", ["DECIDED"])
        await submit_and_approve(gql, admin, workflow)
        await target.wait_for(3)
        await settle_jobs(server)

        assert len(target.received) == 3
        assert len({r.headers["x-arbiter-event-id"] for r in target.received}) == 1
        one, two, three = (r.at for r in target.received)
        assert two - one >= 0.08  # the first retry after 0.1 s ...
        assert three - two >= 0.18  # ... the next after twice that
        [listed] = await hooks(gql, admin, workflow)
        [delivery] = listed["deliveries"]
        assert (delivery["status"], delivery["attempts"]) == ("FAILED", 3)
        assert delivery["lastError"].startswith("ReadTimeout")  # a timeout counts as failed
        assert delivery["deliveredAt"] is None
        assert delivery["nextAttemptAt"] is None


async def test_deleting_a_webhook_stops_its_deliveries(live_server_factory):
    async with (
        receiver(500) as target,
        live_server_factory(webhook_retry_seconds=1.0) as server,
    ):
        gql, admin, workflow = await world(server)
        hook = await add_webhook(gql, admin, workflow, f"{target.url}/gone", ["DECIDED"])
        await submit_and_approve(gql, admin, workflow)
        await target.wait_for(1)

        deleted = (await gql(DELETE_WEBHOOK, {"id": hook["id"]}, token=admin))["deleteWebhook"]
        assert deleted == {
            "__typename": "WebhookSuccess",
            "secret": None,
            "webhook": {"id": hook["id"], "active": False},
        }
        await settle_jobs(server)  # the scheduled retry runs, finds the webhook deleted
        assert len(target.received) == 1
        await submit_and_approve(gql, admin, workflow)  # no delivery for a deleted webhook
        await settle_jobs(server)
        assert len(target.received) == 1

        assert await hooks(gql, admin, workflow) == []
        [listed] = await hooks(gql, admin, workflow, all=True)
        assert (listed["id"], listed["active"]) == (hook["id"], False)
        [delivery] = listed["deliveries"]
        assert (delivery["status"], delivery["attempts"]) == ("FAILED", 1)
        assert delivery["lastError"] == "the webhook was deleted"

        again = (await gql(DELETE_WEBHOOK, {"id": hook["id"]}, token=admin))["deleteWebhook"]
        assert again["__typename"] == "NotFound"


# ---------------------------------------------------------------- the API's rules


async def test_only_admins_manage_and_read_webhooks(gql):
    services = gql.services
    admin = await create_user(services, "admin")
    workflow = (await create_workflow(gql, admin))["key"]
    hook = await add_webhook(gql, admin, workflow, "https://example.com/hook", ["DECIDED"])
    for role in ("service", "analyst", "senior"):
        token = await create_user(services, role)
        variables = {"wf": workflow, "url": "https://example.com/x", "events": ["ADDED"]}
        created = (await gql(CREATE_WEBHOOK, variables, token=token))["createWebhook"]
        assert created["__typename"] == "Forbidden", created
        assert "ADMIN" in created["message"]
        deleted = (await gql(DELETE_WEBHOOK, {"id": hook["id"]}, token=token))["deleteWebhook"]
        assert deleted["__typename"] == "Forbidden", deleted
        body = (await gql.post(WEBHOOKS, {"wf": workflow}, token)).json()
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    [listed] = await hooks(gql, admin, workflow)
    assert (listed["id"], listed["active"]) == (hook["id"], True)
    # The secret is shown once, on creation: a webhook has no field for it.
    body = (
        await gql.post(f'{{ webhooks(workflow: "{workflow}") {{ secret }} }}', {}, admin)
    ).json()
    assert "secret" in body["errors"][0]["message"]


async def test_bad_webhook_input_is_answered_as_data(gql):
    admin = await create_user(gql.services, "admin")
    workflow = (await create_workflow(gql, admin))["key"]

    async def create(wf: str, url: str, events: list[str]) -> dict[str, Any]:
        variables = {"wf": wf, "url": url, "events": events}
        return dict((await gql(CREATE_WEBHOOK, variables, token=admin))["createWebhook"])

    for url in ("not a url", "ftp://example.com/hook", "https://", "http:///path", ""):
        result = await create(workflow, url, ["DECIDED"])
        assert (result["__typename"], result["field"]) == ("InvalidInput", "url"), url
    long = "https://example.com/" + "x" * 2_000
    assert (await create(workflow, long, ["DECIDED"]))["field"] == "url"
    empty = await create(workflow, "https://example.com/hook", [])
    assert (empty["__typename"], empty["field"]) == ("InvalidInput", "events")
    unknown = await create("no-such-workflow", "https://example.com/hook", ["DECIDED"])
    assert unknown["__typename"] == "NotFound"
    missing = (await gql(DELETE_WEBHOOK, {"id": "whk_nope"}, token=admin))["deleteWebhook"]
    assert missing["__typename"] == "NotFound"
    body = (await gql.post(WEBHOOKS, {"wf": "no-such-workflow"}, admin)).json()
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert await hooks(gql, admin, workflow) == []
    await add_webhook(gql, admin, workflow, "https://example.com/hook", ["DECIDED"])
    body = (await gql.post(WEBHOOKS, {"wf": workflow, "first": -1}, admin)).json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_listing_webhooks_with_their_deliveries_costs_the_same_for_one_or_five(gql):
    admin = await create_user(gql.services, "admin")
    workflow = (await create_workflow(gql, admin))["key"]
    engines = [gql.services.database.read_engine, gql.services.database.write_engine]
    # The token cache's twice-a-second re-read is not the listing's to count.
    gql.services.token_cache.recheck_seconds = 3600
    statements = []
    for adding in (1, 4):
        for _ in range(adding):
            await add_webhook(gql, admin, workflow, "https://example.com/hook", ["ADDED"])
        with StatementCounter(engines) as counter:
            listed = await hooks(gql, admin, workflow)
        assert all(h["deliveries"] == [] for h in listed)
        statements.append((len(listed), counter.count))
    (one, few), (five, many) = statements
    assert (one, five) == (1, 5)
    assert few == many


# ---------------------------------------------------------------- arq on a real Redis


async def test_an_arq_worker_delivers_and_retries_against_real_redis(
    database, database_url, redis_url, live_server_factory
):
    overrides: dict[str, Any] = {"redis_url": redis_url, "webhook_retry_seconds": 0.2}
    options = runtime_options(make_settings(database_url, **overrides))
    worker = create_worker(
        worker_settings(database_url, redis_url, options), burst=True, handle_signals=False
    )
    async with receiver(500, 200) as target, live_server_factory(**overrides) as server:
        try:
            await worker.main()  # a worker that was up before the work arrived: nothing to do
            runtime = worker.ctx["runtime"]
            gql, admin, workflow = await world(server)
            hook = await add_webhook(gql, admin, workflow, f"{target.url}/arq", ["DECIDED"])
            item = await submit_and_approve(gql, admin, workflow)
            await asyncio.sleep(0.5)
            assert target.received == []  # queued on arq: nothing runs in the API process
            [listed] = await hooks(gql, admin, workflow)
            assert [(d["status"], d["attempts"]) for d in listed["deliveries"]] == [("PENDING", 0)]

            async with asyncio.timeout(WAIT * 2):
                await worker.main()  # the attempt, then the deferred retry, then the queue is empty
            assert worker.ctx["runtime"] is runtime  # run again, it keeps its one Runtime
        finally:
            await worker.close()

        first, retry = target.received
        assert first.headers["x-arbiter-event-id"] == retry.headers["x-arbiter-event-id"]
        assert retry.at - first.at >= 0.15
        for got in (first, retry):
            assert_signed_decided_event(got, hook["secret"], workflow, item)
        [listed] = await hooks(gql, admin, workflow)
        [delivery] = listed["deliveries"]
        assert delivery["eventId"] == first.headers["x-arbiter-event-id"]
        assert (delivery["status"], delivery["attempts"], delivery["lastError"]) == (
            "DELIVERED",
            2,
            "HTTP 500",
        )


async def test_a_witness_webhook_gets_each_signed_checkpoint_and_no_queue_events(
    live_server_factory,
):
    async with receiver(200) as target, live_server_factory() as server:
        gql, admin, workflow = await world(server)
        witness = await add_webhook(gql, admin, workflow, f"{target.url}/witness", ["CHECKPOINT"])
        await submit_and_approve(gql, admin, workflow)
        await submit_and_approve(gql, admin, workflow)
        got = await target.wait_for(2, "/witness")
        await settle_jobs(server)
        assert all(verify(witness["secret"], r.body, r.headers["x-arbiter-signature"]) for r in got)
        events = [r.json for r in target.to("/witness")]
        assert {e["kind"] for e in events} == {"CHECKPOINT"}
        # Deliveries run concurrently: a witness orders checkpoints by tree size.
        assert sorted(e["checkpoint"]["treeSize"] for e in events) == [1, 2]
        public = (await gql("{ logPublicKey }", token=admin))["logPublicKey"]
        for event, received in zip(events, got, strict=True):
            note = event["checkpoint"]["note"]
            assert event["id"] == received.headers["x-arbiter-event-id"]
            assert note.startswith(f"arbiter/{workflow}\n{event['checkpoint']['treeSize']}\n")
            assert verify_signature(
                public, note.encode(), base64.b64decode(event["checkpoint"]["signature"])
            )
        deliveries = (await hooks(gql, admin, workflow))[0]["deliveries"]
        assert {(d["eventKind"], d["status"]) for d in deliveries} == {("CHECKPOINT", "DELIVERED")}
