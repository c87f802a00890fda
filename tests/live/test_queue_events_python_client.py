"""The Python gql client subscribes to queueEvents over graphql-transport-ws."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from gql import Client, gql
from gql.transport.exceptions import TransportClosed, TransportQueryError, TransportServerError
from gql.transport.websockets import WebsocketsTransport

from tests.factories import create_user

SUBSCRIBE = gql(
    """subscription($wf: String!) {
      queueEvents(workflow: $wf) {
        id kind at
        recommendation { id status tier version }
        actor { name }
        decision { verdict finalAction }
      }
    }"""
)


async def post(server: Any, token: str, query: str, variables: dict[str, Any] | None = None) -> Any:
    async with httpx.AsyncClient() as http:
        response = await http.post(
            server.graphql,
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {token}"},
        )
    body = response.json()
    assert not body.get("errors"), body
    return body["data"]


def transport(server: Any, token: str) -> WebsocketsTransport:
    return WebsocketsTransport(
        url=server.websocket,
        init_payload={"Authorization": f"Bearer {token}"},
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        close_timeout=1,  # gql waits this long for a close it never gets after "complete"
    )


async def test_a_subscriber_receives_added_and_decided_events_in_order(live_server):
    admin = await create_user(live_server.services, "admin", name="ada")
    await post(
        live_server,
        admin,
        'mutation { createWorkflow(input: {key: "live", name: "Live", kind: CLASSIFICATION, '
        'reviewerRole: EXPERT, actions: ["A", "B"]}) { __typename } }',
    )
    received: list[dict[str, Any]] = []
    async with Client(transport=transport(live_server, admin)) as session:
        subscription = session.subscribe(SUBSCRIBE, variable_values={"wf": "live"})

        async def act() -> None:
            await asyncio.sleep(0.2)
            data = await post(
                live_server,
                admin,
                'mutation { submitRecommendations(workflow: "live", items: [{payload: {}, '
                'proposedAction: "A", confidence: 0.8}]) { ... on SubmitSuccess { '
                "recommendations { id } } } }",
            )
            item = data["submitRecommendations"]["recommendations"][0]["id"]
            await post(
                live_server,
                admin,
                "mutation($id: ID!) { approve(id: $id) { __typename } }",
                {"id": item},
            )

        actor = asyncio.create_task(act())
        async with asyncio.timeout(10):
            async for result in subscription:
                received.append(result["queueEvents"])
                if len(received) == 2:
                    break
        await actor
    added, decided = received
    assert (added["kind"], decided["kind"]) == ("ADDED", "DECIDED")
    assert added["recommendation"]["id"] == decided["recommendation"]["id"]
    assert added["recommendation"]["status"] == "PENDING"
    assert decided["recommendation"]["status"] == "APPROVED"
    assert decided["decision"] == {"verdict": "APPROVE", "finalAction": "A"}
    assert decided["actor"] == {"name": "ada"}
    assert added["id"] != decided["id"]


async def test_a_bad_token_cannot_subscribe(live_server):
    with pytest.raises((TransportClosed, TransportQueryError, TransportServerError, Exception)):
        async with asyncio.timeout(10):
            async with Client(transport=transport(live_server, "not-a-token")) as session:
                async for _ in session.subscribe(SUBSCRIBE, variable_values={"wf": "x"}):
                    pytest.fail("a bad token received data")
