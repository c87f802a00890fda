"""Helpers for live tests: GraphQL over HTTP, a raw graphql-transport-ws subscriber."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import websockets


async def post(url: str, token: str, query: str, variables: dict[str, Any] | None = None) -> Any:
    """A GraphQL operation over HTTP; returns `data`, failing on top-level errors."""
    async with httpx.AsyncClient(timeout=10, trust_env=False) as http:
        response = await http.post(
            url,
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {token}"},
        )
    body = response.json()
    assert response.status_code == 200 and not body.get("errors"), body
    return body["data"]


async def server_post(
    server: Any, token: str, query: str, variables: dict[str, Any] | None = None
) -> Any:
    """`post` to a live server's /graphql."""
    return await post(server.graphql, token, query, variables)


async def create_live_workflow(server: Any, admin: str, key: str) -> None:
    """A CLASSIFICATION workflow with EXPERT reviewers and actions A and B."""
    data = await server_post(
        server,
        admin,
        "mutation($key: String!) { createWorkflow(input: {key: $key, name: $key, "
        'kind: CLASSIFICATION, reviewerRole: EXPERT, actions: ["A", "B"]}) { __typename } }',
        {"key": key},
    )
    assert data["createWorkflow"]["__typename"] == "WorkflowSuccess", data


class Subscriber:
    """One graphql-transport-ws connection with one subscription; events land in a queue."""

    def __init__(self, websocket: Any) -> None:
        self.websocket = websocket
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._reader: asyncio.Task[None] | None = None

    async def _read(self) -> None:
        async for raw in self.websocket:
            message = json.loads(raw)
            if message.get("type") == "next":
                await self.events.put(message["payload"])
            elif message.get("type") == "ping":
                await self.websocket.send(json.dumps({"type": "pong"}))

    async def next(self, timeout: float = 10.0) -> dict[str, Any]:
        return await asyncio.wait_for(self.events.get(), timeout)


@contextlib.asynccontextmanager
async def subscribe(
    ws_url: str, token: str, query: str, variables: dict[str, Any] | None = None
) -> AsyncIterator[Subscriber]:
    async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"]) as websocket:
        await websocket.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        )
        ack = json.loads(await asyncio.wait_for(websocket.recv(), 10))
        assert ack["type"] == "connection_ack", ack
        await websocket.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": query, "variables": variables or {}},
                }
            )
        )
        subscriber = Subscriber(websocket)
        subscriber._reader = asyncio.create_task(subscriber._read())
        try:
            yield subscriber
        finally:
            subscriber._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await subscriber._reader


QUEUE_EVENTS = """subscription($wf: String!) {
  queueEvents(workflow: $wf) { id kind recommendation { id status } decision { verdict } }
}"""

CREATE_WORKFLOW = """mutation($key: String!) {
  createWorkflow(input: {key: $key, name: "Live", kind: CLASSIFICATION, reviewerRole: EXPERT,
                         actions: ["A", "B"]}) { __typename }
}"""

SUBMIT = """mutation($wf: String!, $confidence: Float!) {
  submitRecommendations(workflow: $wf, items: [{payload: {}, proposedAction: "A",
                                                confidence: $confidence}]) {
    ... on SubmitSuccess { recommendations { id } }
  }
}"""

APPROVE = "mutation($id: ID!) { approve(id: $id) { __typename } }"


async def submit_one(url: str, token: str, workflow: str, confidence: float = 0.8) -> str:
    data = await post(url, token, SUBMIT, {"wf": workflow, "confidence": confidence})
    return str(data["submitRecommendations"]["recommendations"][0]["id"])
