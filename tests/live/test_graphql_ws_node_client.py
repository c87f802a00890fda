"""The npm `graphql-ws` client (what JavaScript frontends use) subscribes to queueEvents.

tests/clients/subscribe.mjs runs under Node against a real server; it prints each
event as one JSON line. Its packages are installed once per session with `npm ci`
(tests/clients_node.py: when node_modules is missing or older than the lockfile).
Without node and npm on PATH these tests skip, or fail under ARBITER_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from typing import Any

import pytest

from tests import clients_node
from tests.clients_node import CLIENTS, NodeClient
from tests.factories import create_user
from tests.live.helpers import create_live_workflow, server_post

node_client = clients_node.node_client  # the session fixture, shared with tests/clients_live
SCRIPT = CLIENTS / "subscribe.mjs"
EVENT_TIMEOUT = 10.0


class Subscriber:
    """One run of subscribe.mjs: read its events line by line, then its exit status."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.stderr = ""

    @classmethod
    async def start(
        cls,
        client: NodeClient,
        server: Any,
        token: str,
        workflow: str,
        *,
        count: int,
        timeout: float = 15,
        tiers: list[str] | None = None,
    ) -> Subscriber:
        args = ["--url", server.websocket, "--workflow", workflow]
        args += ["--count", str(count), "--timeout", str(timeout)]
        if tiers:
            args += ["--tiers", ",".join(tiers)]
        process = await asyncio.create_subprocess_exec(
            client.node,
            str(SCRIPT),
            *args,
            cwd=CLIENTS,
            env={**os.environ, "ARBITER_TOKEN": token},  # kept out of the process list
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        return cls(process)

    async def next_event(self, timeout: float = EVENT_TIMEOUT) -> dict[str, Any]:
        assert self.process.stdout is not None
        try:
            line = await asyncio.wait_for(self.process.stdout.readline(), timeout)
        except TimeoutError:
            pytest.fail(f"no event from the Node client within {timeout}s")
        if not line:
            code, stderr = await self.finish()
            pytest.fail(f"the Node client exited ({code}) before an event:\n{stderr}")
        return dict(json.loads(line))

    async def finish(self, timeout: float = EVENT_TIMEOUT) -> tuple[int, str]:
        """Wait for it to exit; its exit status and stderr."""
        assert self.process.stderr is not None
        try:
            async with asyncio.timeout(timeout):
                stderr = await self.process.stderr.read()
                code = await self.process.wait()
        except TimeoutError:
            self.kill()
            pytest.fail(f"the Node client did not exit within {timeout}s")
        self.stderr = stderr.decode()
        return code, self.stderr

    async def remaining_stdout(self) -> bytes:
        assert self.process.stdout is not None
        return await self.process.stdout.read()

    def kill(self) -> None:
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()

    async def close(self) -> None:
        self.kill()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.process.wait(), 5)


@contextlib.asynccontextmanager
async def subscribers(*started: Any) -> Any:
    """Start these subscribers; kill whichever is still running at the end."""
    running: list[Subscriber] = []
    try:
        for subscriber in started:
            running.append(await subscriber)
        yield running
    finally:
        for subscriber in running:
            await subscriber.close()


async def until_subscribed(server: Any, count: int, running: list[Subscriber]) -> None:
    """Wait until the server's hub holds `count` subscribers, i.e. the subscriptions
    are live and will hear what is published from now on."""
    async with asyncio.timeout(EVENT_TIMEOUT):
        while len(server.services.bus.subscribers) < count:
            for subscriber in running:
                if subscriber.process.returncode is not None:
                    code, stderr = await subscriber.finish()
                    pytest.fail(f"a Node client exited ({code}) before subscribing:\n{stderr}")
            await asyncio.sleep(0.02)


async def submit(server: Any, token: str, workflow: str, confidence: float) -> dict[str, Any]:
    data = await server_post(
        server,
        token,
        "mutation($wf: String!, $c: Float!) { submitRecommendations(workflow: $wf, "
        'items: [{payload: {}, proposedAction: "A", confidence: $c}]) { __typename '
        "... on SubmitSuccess { recommendations { id tier status } } } }",
        {"wf": workflow, "c": confidence},
    )
    result = data["submitRecommendations"]
    assert result["__typename"] == "SubmitSuccess", result
    return dict(result["recommendations"][0])


async def approve(server: Any, token: str, item: str) -> None:
    data = await server_post(
        server, token, "mutation($id: ID!) { approve(id: $id) { __typename } }", {"id": item}
    )
    assert data["approve"]["__typename"] == "DecisionSuccess", data


async def test_the_node_client_receives_added_then_decided(node_client, live_server):
    admin = await create_user(live_server.services, "admin", name="ada")
    await create_live_workflow(live_server, admin, "node-live")
    before = len(live_server.services.bus.subscribers)
    async with subscribers(
        Subscriber.start(node_client, live_server, admin, "node-live", count=2)
    ) as (subscriber,):
        await until_subscribed(live_server, before + 1, [subscriber])

        item = await submit(live_server, admin, "node-live", 0.8)
        await approve(live_server, admin, item["id"])

        added = await subscriber.next_event()
        decided = await subscriber.next_event()
        code, stderr = await subscriber.finish()

    assert code == 0, stderr
    assert (added["kind"], decided["kind"]) == ("ADDED", "DECIDED")
    assert added["recommendation"]["id"] == decided["recommendation"]["id"] == item["id"]
    assert added["recommendation"]["status"] == "PENDING"
    assert decided["recommendation"]["status"] == "APPROVED"
    assert decided["decision"]["verdict"] == "APPROVE"
    assert decided["actor"]["name"] == "ada"
    assert added["id"] != decided["id"]


async def test_a_bad_token_cannot_subscribe_from_node(node_client, live_server):
    admin = await create_user(live_server.services, "admin")
    await create_live_workflow(live_server, admin, "node-bad-token")
    async with subscribers(
        Subscriber.start(node_client, live_server, "not-a-token", "node-bad-token", count=1)
    ) as (subscriber,):
        code, stderr = await subscriber.finish(timeout=15)
        stdout = await subscriber.remaining_stdout()

    assert code != 0, stderr
    assert "4403" in stderr, stderr  # closed before connection_ack
    assert "connected" not in stderr, stderr
    assert stdout == b""
    assert len(live_server.services.bus.subscribers) == 0


async def test_an_analyst_hears_nothing_of_senior_review_items(node_client, live_server):
    admin = await create_user(live_server.services, "admin")
    analyst = await create_user(live_server.services, "analyst")
    await create_live_workflow(live_server, admin, "node-tiers")
    before = len(live_server.services.bus.subscribers)
    async with subscribers(
        Subscriber.start(node_client, live_server, admin, "node-tiers", count=2),
        Subscriber.start(node_client, live_server, analyst, "node-tiers", count=1),
    ) as (control, watcher):
        await until_subscribed(live_server, before + 2, [control, watcher])

        senior = await submit(live_server, admin, "node-tiers", 0.6)
        assert senior["tier"] == "SENIOR_REVIEW"
        first = await control.next_event()  # published: every subscriber has been offered it
        assert first["recommendation"]["id"] == senior["id"]
        analyst_item = await submit(live_server, admin, "node-tiers", 0.8)
        assert analyst_item["tier"] == "ANALYST_REVIEW"
        second = await control.next_event()

        heard = await watcher.next_event()
        code, stderr = await watcher.finish()
        control_code, control_stderr = await control.finish()

    assert (first["kind"], second["kind"]) == ("ADDED", "ADDED")
    assert second["recommendation"]["id"] == analyst_item["id"]
    # the analyst's first and only event is the later, ANALYST_REVIEW one
    assert heard["kind"] == "ADDED"
    assert heard["recommendation"]["id"] == analyst_item["id"]
    assert heard["recommendation"]["tier"] == "ANALYST_REVIEW"
    assert code == 0, stderr
    assert control_code == 0, control_stderr
