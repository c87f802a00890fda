"""The response checker the fuzzer relies on finds what it is meant to find."""

from __future__ import annotations

from typing import Any

import graphql
import pytest

from tests.hostile.conformance import problems

SDL = """
type Query { item(id: ID!): Result!  maybe: Item  items: [Item!]! }
union Result = Item | Missing
interface Problem { message: String! }
type Missing implements Problem { message: String! }
type Item { id: ID!  count: Int!  state: State!  note: String  at: DateTime! }
enum State { OPEN DONE }
scalar DateTime
"""
SCHEMA = graphql.build_schema(SDL)
QUERY = """{ item(id: "1") { ... on Item { id count state at } ... on Problem { message } }
  items { id note } }"""
GOOD_ITEM = {"id": "1", "count": 2, "state": "OPEN", "at": "2025-01-01T00:00:00+00:00"}


def check(body: Any, query: str = QUERY, status: int = 200) -> list[str]:
    return problems(SCHEMA, query, None, status, body)


def test_a_well_formed_answer_has_no_problems() -> None:
    assert check({"data": {"item": GOOD_ITEM, "items": [{"id": "2", "note": None}]}}) == []
    assert check({"data": {"item": {"message": "no"}, "items": []}}) == []
    assert check({"errors": [{"message": "Syntax Error"}]}) == []
    assert check({"data": None, "errors": [{"message": "no", "path": ["item"]}]}) == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"data": {"item": {**GOOD_ITEM, "secret": 1}, "items": []}}, "not asked for"),
        ({"data": {"item": {"id": "1"}, "items": []}}, "fits no member"),
        ({"data": {"item": {**GOOD_ITEM, "count": None}, "items": []}}, "fits no member"),
        ({"data": {"item": GOOD_ITEM, "items": [None]}}, "null for the non-null"),
        ({"data": {"item": GOOD_ITEM, "items": [{"id": 5, "note": None}]}}, "valid ID"),
        ({"data": {"item": GOOD_ITEM, "items": {}}}, "expected a list"),
        ({"data": {"item": {**GOOD_ITEM, "state": "LOST"}, "items": []}}, "fits no member"),
        ({"data": {"item": GOOD_ITEM}}, "missing ['items']"),
        (
            {
                "data": {"item": GOOD_ITEM, "items": []},
                "errors": [{"message": "Unexpected error."}],
            },
            "masked",
        ),
        ({"data": None}, "null without an error"),
        ({}, "neither data nor errors"),
        ({"errors": [{"msg": "x"}]}, "without a message"),
        ([1, 2], "not a JSON object"),
    ],
)
def test_a_broken_answer_is_named(body: Any, expected: str) -> None:
    found = check(body)

    assert any(expected in problem for problem in found), found


def test_a_server_error_status_is_a_problem() -> None:
    assert "HTTP 500" in check({"errors": [{"message": "boom"}]}, status=500)


def test_aliases_fragments_and_typename_are_followed() -> None:
    query = """query { first: item(id: "1") { __typename ...F } }
      fragment F on Item { n: count }"""

    ok = {"data": {"first": {"__typename": "Item", "n": 3}}}
    wrong = {"data": {"first": {"__typename": "Missing", "n": 3}}}

    assert problems(SCHEMA, query, None, 200, ok) == []
    assert problems(SCHEMA, query, None, 200, wrong)
