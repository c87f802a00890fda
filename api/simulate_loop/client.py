"""The simulation's way in: the app (`make run`'s embedded setup: SQLite, in-process bus and
jobs) run in this process with its lifespan, spoken to over GraphQL only.

Queries and mutations go through httpx's ASGITransport (which runs no lifespan: `InProcessApi`
enters it); model events arrive on a `modelEvents` subscription over graphql-transport-ws,
spoken to the app's WebSocket route directly (`ModelEventFeed`). Requests run in the
caller's context, so a clock set with domain.clock.using_clock before `InProcessApi` starts
is the clock of every request, job and sweep.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import MutableMapping
from typing import Any

import httpx
from starlette.applications import Starlette

from api.app import create_app
from api.settings import Settings


class ApiError(RuntimeError):
    """A GraphQL answer with errors, or one whose union member was a Problem."""


class InProcessApi:
    """The app with its lifespan entered, and an httpx client posting GraphQL to it."""

    def __init__(self, settings: Settings) -> None:
        self.app: Starlette = create_app(settings)
        self._http: httpx.AsyncClient | None = None
        self._stack = contextlib.AsyncExitStack()

    async def __aenter__(self) -> InProcessApi:
        await self._stack.enter_async_context(self.app.router.lifespan_context(self.app))
        transport = httpx.ASGITransport(app=self.app)
        self._http = await self._stack.enter_async_context(
            httpx.AsyncClient(transport=transport, base_url="http://simulation", timeout=None)
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()

    async def __call__(self, document: str, token: str, **variables: Any) -> dict[str, Any]:
        """The operation's `data`; raises ApiError on errors."""
        assert self._http is not None, "enter the InProcessApi first"
        response = await self._http.post(
            "/graphql",
            json={"query": document, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        )
        body = response.json()
        if response.status_code != 200 or body.get("errors"):
            raise ApiError(f"HTTP {response.status_code}: {body.get('errors') or body}")
        return dict(body["data"])

    async def result(self, document: str, token: str, **variables: Any) -> dict[str, Any]:
        """The single field's union member; raises ApiError when it is a Problem."""
        data = await self(document, token, **variables)
        member = dict(next(iter(data.values())))
        if "message" in member and member.get("__typename") not in SUCCESSES:
            raise ApiError(f"{member.get('__typename')}: {member['message']}")
        return member

    def model_events(self, workflow: str, token: str) -> ModelEventFeed:
        """A live `modelEvents` subscription (enter it with `async with`)."""
        return ModelEventFeed(self.app, workflow, token)


SUCCESSES = frozenset(
    {
        "SubmitSuccess",
        "ClaimSuccess",
        "DecisionSuccess",
        "PolicySuccess",
        "WorkflowSuccess",
        "UserSuccess",
        "JobSuccess",
    }
)

MODEL_EVENTS = """
subscription($workflow: String!) {
  modelEvents(workflow: $workflow) { kind message model { version } }
}"""


class ModelEventFeed:
    """graphql-transport-ws over the app's ASGI WebSocket route; the events received are
    collected in `events` as they arrive."""

    def __init__(self, app: Starlette, workflow: str, token: str) -> None:
        self.app, self.workflow, self.token = app, workflow, token
        self.events: list[dict[str, Any]] = []
        self._inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._acked = asyncio.Event()
        self._closed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> ModelEventFeed:
        self._task = asyncio.create_task(self.app(self._scope(), self._receive, self._send))
        await self._inbox.put({"type": "websocket.connect"})
        await self._say(
            {"type": "connection_init", "payload": {"Authorization": f"Bearer {self.token}"}}
        )
        await asyncio.wait_for(self._acked.wait(), timeout=10)
        await self._say(
            {
                "id": "model-events",
                "type": "subscribe",
                "payload": {"query": MODEL_EVENTS, "variables": {"workflow": self.workflow}},
            }
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._inbox.put({"type": "websocket.disconnect", "code": 1000})
        if self._task is not None:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._task, timeout=5)

    def drain(self) -> list[dict[str, Any]]:
        """The events received since the last drain."""
        taken, self.events = self.events, []
        return taken

    async def _say(self, message: dict[str, Any]) -> None:
        await self._inbox.put({"type": "websocket.receive", "text": json.dumps(message)})

    def _scope(self) -> dict[str, Any]:
        return {
            "type": "websocket",
            "asgi": {"version": "3.0"},
            "scheme": "ws",
            "path": "/graphql",
            "raw_path": b"/graphql",
            "query_string": b"",
            "root_path": "",
            "headers": [
                (b"host", b"simulation"),
                (b"sec-websocket-protocol", b"graphql-transport-ws"),
            ],
            "subprotocols": ["graphql-transport-ws"],
            "client": ("127.0.0.1", 0),
            "server": ("simulation", 80),
            "state": {},
        }

    async def _receive(self) -> dict[str, Any]:
        return await self._inbox.get()

    async def _send(self, message: MutableMapping[str, Any]) -> None:
        if message["type"] == "websocket.close":
            self._closed.set()
            return
        if message["type"] != "websocket.send":
            return
        frame = json.loads(message.get("text") or message.get("bytes") or "{}")
        if frame.get("type") == "connection_ack":
            self._acked.set()
        elif frame.get("type") == "next":
            self.events.append(frame["payload"]["data"]["modelEvents"])
        elif frame.get("type") == "ping":
            await self._say({"type": "pong"})
