"""Every connection (queue, decisions, overrides) refuses a cursor it never gave out in the
same way: a top-level BAD_USER_INPUT error naming the cursor, and no data; its own
cursors keep paging."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from tests.factories import create_user, create_workflow, submit

CONNECTIONS = {
    "queue": """
query($wf: String!, $first: Int!, $after: String) {
  queue(workflow: $wf, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } }
  }
}""",
    "decisions": """
query($wf: String!, $first: Int!, $after: String) {
  decisions(workflow: $wf, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } }
  }
}""",
    "overrides": """
query($wf: String!, $first: Int!, $after: String) {
  overrides(workflow: $wf, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } }
  }
}""",
}
OVERRIDE = """
mutation($id: ID!) { override(id: $id, action: "B", reason: "young company") {
  __typename ... on Problem { message } } }"""
ITEMS = 3


@dataclass
class World:
    gql: Any
    admin: str
    key: str

    async def page(self, connection: str, after: str | None, first: int = 1) -> Any:
        variables = {"wf": self.key, "first": first, "after": after}
        return await self.gql.post(CONNECTIONS[connection], variables, token=self.admin)


async def a_world_with_every_connection_filled(gql: Any) -> World:
    """Three items overridden (three decisions, three overrides) and three still queued."""
    admin = await create_user(gql.services, "admin")
    workflow = await create_workflow(gql, admin)
    items = [
        {"payload": {"n": n}, "proposedAction": "A", "confidence": 0.8} for n in range(2 * ITEMS)
    ]
    result = await submit(gql, admin, workflow["key"], *items)
    assert result["__typename"] == "SubmitSuccess", result
    for item in result["recommendations"][:ITEMS]:
        data = await gql(OVERRIDE, {"id": item["id"]}, token=admin)
        assert data["override"]["__typename"] == "DecisionSuccess", data
    return World(gql, admin, workflow["key"])


def encoded(text: str) -> str:
    """Any text in the cursors' transport encoding (URL-safe base64, unpadded)."""
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decoded(cursor: str) -> list[Any]:
    """What a curious client finds inside a real cursor."""
    value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    assert isinstance(value, list)
    return value


WRONG: dict[str, dict[str, Any]] = {
    "timestamp": {
        "text": "tomorrow",
        "int": 1_700_000_000,
        "fraction": 1.5,
        "bool": True,
        "null": None,
        "list": ["2024-01-01T00:00:00+00:00"],
        "naive": "2024-01-01T00:00:00",
        "date-only": "2024-01-01",
        "out-of-range": "0001-01-01T00:00:00+05:00",
    },
    "id": {
        "int": 1,
        "fraction": 1.5,
        "bool": False,
        "null": None,
        "empty": "",
        "list": ["rec_x"],
        "object": {"id": "rec_x"},
        "too-long": "x" * 300,
    },
    "sequence": {
        "text": "one",
        "numeric-text": "1",
        "negative": -1,
        "past-32-bits": 2**31,
        "huge": 10**30,
        "fraction": 1.5,
        "bool": True,
        "null": None,
        "list": [1],
    },
}


def kind_of(value: Any) -> str:
    """What a position of a real cursor holds, judged from its value."""
    if isinstance(value, int):
        return "sequence"
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return "id"
    return "timestamp"


def forgeries(real: str, other_connection: str) -> dict[str, str]:
    """Cursors the API never gave out: broken encodings, wrong shapes, and the real cursor
    with one position at a time replaced by a value of the wrong type."""
    values = decoded(real)
    forged = {
        "empty": "",
        "word": "garbage",
        "punctuation": "!!not base64!!",
        "padded-junk": real + "!",
        "one-char-too-many": real + "A",
        "too-long": "A" * 2000,
        "not-json": encoded("not json at all"),
        "object": encoded(json.dumps({"after": values})),
        "string": encoded(json.dumps("queue")),
        "empty-list": encoded("[]"),
        "crafted-1": encoded("[1]"),
        "bare-values": encoded(json.dumps(values[1:])),
        "one-position-short": encoded(json.dumps(values[:-1])),
        "one-position-more": encoded(json.dumps([*values, values[-1]])),
        "another-connection": other_connection,
        "nan": encoded(json.dumps([values[0], *[float("nan")] * (len(values) - 1)])),
        "infinity": encoded(json.dumps([values[0], *[float("inf")] * (len(values) - 1)])),
    }
    for index in range(1, len(values)):
        for name, wrong in WRONG[kind_of(values[index])].items():
            changed = list(values)
            changed[index] = wrong
            forged[f"position-{index}-{name}"] = encoded(json.dumps(changed))
    return forged


def assert_refused(response: Any) -> None:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body.get("data") is None, body
    assert len(body["errors"]) == 1, body
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", body
    assert "cursor" in error["message"], body


@pytest.mark.parametrize("connection", list(CONNECTIONS))
async def test_a_cursor_from_a_first_page_gives_the_next_page_of_every_connection(gql, connection):
    world = await a_world_with_every_connection_filled(gql)
    whole = (await world.page(connection, None, first=50)).json()["data"][connection]
    assert whole["totalCount"] == ITEMS
    everything = [edge["node"]["id"] for edge in whole["edges"]]

    seen, after = [], None
    for _ in range(ITEMS):
        response = await world.page(connection, after)
        assert response.status_code == 200, response.text
        body = response.json()
        assert not body.get("errors"), body
        page = body["data"][connection]
        seen.extend(edge["node"]["id"] for edge in page["edges"])
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break

    assert seen == everything


@pytest.mark.parametrize("connection", list(CONNECTIONS))
async def test_every_connection_answers_a_forged_cursor_with_bad_user_input(gql, connection):
    world = await a_world_with_every_connection_filled(gql)
    first_pages = {}
    for name in CONNECTIONS:
        body = (await world.page(name, None)).json()
        first_pages[name] = body["data"][name]["pageInfo"]["endCursor"]
    other = next(name for name in CONNECTIONS if name != connection)

    forged = forgeries(first_pages[connection], first_pages[other])
    assert len(forged) > 20
    accepted = []
    for name, cursor in forged.items():
        response = await world.page(connection, cursor)
        body = response.json()
        if body.get("data") is not None or not body.get("errors"):
            accepted.append(name)
            continue
        assert_refused(response)

    assert accepted == []
    # The real cursor still works after all that.
    still = (await world.page(connection, first_pages[connection])).json()
    assert not still.get("errors"), still
    assert len(still["data"][connection]["edges"]) == 1


async def test_a_refused_cursor_says_which_position_is_wrong(gql):
    world = await a_world_with_every_connection_filled(gql)
    body = (await world.page("queue", None)).json()
    values = decoded(body["data"]["queue"]["pageInfo"]["endCursor"])
    values[1] = "tomorrow"

    response = await world.page("queue", encoded(json.dumps(values)))

    assert_refused(response)
    message = response.json()["errors"][0]["message"]
    assert "queue" in message and "position 1" in message and "timestamp" in message, message
