"""Hostile documents and bodies that tests/api/test_hardening.py does not send yet:
operation floods, fragment chains and cycles, directive floods, parallel floods,
oversized and deeply nested variables, invalid UTF-8 in a JSON escape, huge lists.

Each must be refused with a clear error (never a 5xx, never a masked fault) and store
nothing: the tables are counted (or snapshotted) before and after.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from store.tables import metadata
from tests.api.test_authentication_and_roles import snapshot
from tests.api.test_hardening import (
    JSON_HEADERS,
    bearer,
    http_with,
    one_item,
    stored_count,
    stored_item,
)
from tests.conftest import GraphQLClient
from tests.factories import create_user, create_workflow

recs = metadata.tables["recommendations"]
decisions_t = metadata.tables["decisions"]


@pytest_asyncio.fixture(loop_scope="session")
async def web(database: Any, database_url: str) -> AsyncIterator[GraphQLClient]:
    """A client whose server faults show as HTTP 500, as a client would see them."""
    async with http_with(database_url) as client:
        yield client


APPROVE = 'mutation m{n} {{ approve(id: "{id}") {{ __typename }} }}'


async def post_raw(client: Any, token: str, body: bytes | str) -> Any:
    return await client.http.post(
        "/graphql", content=body, headers={**JSON_HEADERS, **bearer(token)}
    )


def refused_cleanly(response: Any) -> str:
    """A 4xx (or a 200 carrying only errors) with a readable message; returns it."""
    assert response.status_code < 500, response.text[:300]
    assert response.status_code in (200, 400, 413, 422), response.text[:300]
    try:
        body = response.json()
    except ValueError:
        assert response.status_code == 400, response.text[:300]
        assert response.text.strip(), "an empty refusal"
        return response.text
    assert body.get("errors"), str(body)[:300]
    assert not body.get("data"), str(body)[:300]
    message = body["errors"][0]["message"]
    assert message and message != "Unexpected error.", body["errors"][:3]
    assert "recursion" not in message.lower(), message
    return str(message)


# ------------------------------------------------------------------ operation floods


async def test_hundreds_of_mutations_in_one_document_without_a_name_run_none(web, database):
    admin, _, item = await one_item(web)
    document = " ".join(APPROVE.format(n=n, id=item["id"]) for n in range(300))

    response = await web.post(document, token=admin)

    message = refused_cleanly(response)
    assert "operation" in message.lower(), message
    assert (await stored_item(database, item["id"])).status == "PENDING"
    assert await stored_count(database, decisions_t) == 0


async def test_of_hundreds_of_operations_only_the_named_one_runs(web, database):
    admin, _, item = await one_item(web)
    document = " ".join(APPROVE.format(n=n, id=item["id"]) for n in range(300))
    body = json.dumps({"query": document, "operationName": "m150"})

    response = await post_raw(web, admin, body)

    assert response.status_code == 200, response.text
    assert response.json()["data"] == {"approve": {"__typename": "DecisionSuccess"}}
    assert await stored_count(database, decisions_t) == 1


@pytest.mark.parametrize("operation_name", ["m999", 5, {"name": "m1"}, ["m1"], ""], ids=repr)
async def test_an_operation_name_that_names_nothing_runs_nothing(web, database, operation_name):
    admin, _, item = await one_item(web)
    document = " ".join(APPROVE.format(n=n, id=item["id"]) for n in range(3))
    body = json.dumps({"query": document, "operationName": operation_name})

    response = await post_raw(web, admin, body)

    refused_cleanly(response)
    assert await stored_count(database, decisions_t) == 0


async def test_a_flood_of_parallel_alias_bombs_is_refused_request_by_request(web, database):
    admin, _, item = await one_item(web)
    claims = " ".join(f"c{n}: claim(id: $id) {{ __typename }}" for n in range(31))
    body = json.dumps(
        {"query": f"mutation($id: ID!) {{ {claims} }}", "variables": {"id": item["id"]}}
    )
    before = await snapshot(database)

    responses = await asyncio.gather(*(post_raw(web, admin, body) for _ in range(200)))

    messages = {refused_cleanly(response) for response in responses}
    assert all("alias" in m.lower() for m in messages), messages
    assert await snapshot(database) == before


# ------------------------------------------------------------------ fragments and directives


def fragment_chain(length: int) -> str:
    chain = " ".join(f"fragment F{n} on User {{ ...F{n + 1} }}" for n in range(length))
    return f"{{ me {{ ...F0 }} }} {chain} fragment F{length} on User {{ name }}"


async def test_a_chain_of_three_hundred_fragments_is_refused_not_a_stack_overflow(web):
    admin = await create_user(web.services, "admin")

    response = await web.post(fragment_chain(300), token=admin)

    message = refused_cleanly(response)
    assert "fragments" in message, message


async def test_a_chain_of_fifty_fragments_still_runs(web):
    admin = await create_user(web.services, "admin", name="admin")

    data = await web(fragment_chain(49), token=admin)

    assert data == {"me": {"name": "admin"}}


@pytest.mark.parametrize(
    "document",
    [
        "{ me { ...A } } fragment A on User { ...A }",
        "{ me { ...A } } fragment A on User { id ...B } fragment B on User { name ...A }",
        "{ me { ...A } } fragment A on User { ...B } fragment B on User { ...C } "
        "fragment C on User { ...A }",
    ],
    ids=["self", "pair", "triangle"],
)
async def test_a_fragment_cycle_is_refused(web, document):
    admin = await create_user(web.services, "admin")

    response = await web.post(document, token=admin)

    message = refused_cleanly(response)
    assert "within itself" in message, message


async def test_four_hundred_fragments_side_by_side_are_answered_once(web):
    admin = await create_user(web.services, "admin", name="admin")
    spreads = " ".join(f"...F{n}" for n in range(400))
    fragments = " ".join(f"fragment F{n} on User {{ name }}" for n in range(400))

    data = await web(f"{{ me {{ {spreads} }} }} {fragments}", token=admin)

    assert data == {"me": {"name": "admin"}}


@pytest.mark.parametrize("directive", ["@include(if: true)", "@skip(if: false)", "@nope"])
async def test_a_field_with_hundreds_of_directives_is_refused_and_nothing_runs(
    web, database, directive
):
    admin, _, item = await one_item(web)
    query = f'mutation {{ approve(id: "{item["id"]}") {f"{directive} " * 400}{{ __typename }} }}'

    response = await web.post(query, token=admin)

    refused_cleanly(response)
    assert len(response.content) < 100_000  # the error list is bounded too
    assert await stored_count(database, decisions_t) == 0


# ------------------------------------------------------------------ oversized variables

SUBMIT = """mutation($items: [RecommendationInput!]!) {
  submitRecommendations(workflow: "KEY", items: $items) {
    __typename ... on InvalidInput { field message } } }"""


def submit_vars(key: str) -> str:
    return SUBMIT.replace("KEY", key)


async def test_a_ten_megabyte_string_variable_is_refused_as_too_large(web, database):
    admin, key, _ = await one_item(web)
    before = await stored_count(database, recs)
    items = [{"payload": {}, "proposedAction": "A", "confidence": 0.8, "subject": "x" * 10_000_000}]

    response = await web.post(submit_vars(key), {"items": items}, token=admin)

    assert response.status_code == 413, response.text[:200]
    assert response.json()["errors"][0]["extensions"]["code"] == "TOO_LARGE"
    assert await stored_count(database, recs) == before


async def test_a_five_megabyte_reason_under_the_body_limit_is_invalid_input(web, database):
    admin, _, item = await one_item(web)
    query = """mutation($id: ID!, $r: String!) { reject(id: $id, reason: $r) {
        __typename ... on InvalidInput { field } } }"""

    data = await web(query, {"id": item["id"], "r": "x" * 5_000_000}, token=admin)

    assert data["reject"] == {"__typename": "InvalidInput", "field": "reason"}
    assert (await stored_item(database, item["id"])).status == "PENDING"
    assert await stored_count(database, decisions_t) == 0


async def test_a_list_variable_of_a_million_ids_is_refused_as_too_large(web, database):
    admin, _, item = await one_item(web)
    query = """mutation($id: ID!, $tags: [String!]) { override(id: $id, action: "B",
        reason: "r", reasonTags: $tags) { __typename } }"""

    response = await web.post(
        query, {"id": item["id"], "tags": [item["id"]] * 1_000_000}, token=admin
    )

    assert response.status_code == 413, response.text[:200]
    assert await stored_count(database, decisions_t) == 0


async def test_a_million_short_list_entries_under_the_limit_are_refused_with_bounded_errors(
    web, database
):
    admin, key, _ = await one_item(web)
    before = await stored_count(database, recs)

    response = await web.post(submit_vars(key), {"items": [{}] * 1_000_000}, token=admin)

    refused_cleanly(response)
    assert len(response.content) < 100_000
    assert await stored_count(database, recs) == before


async def test_variables_of_more_than_two_hundred_thousand_values_are_refused_before_coercion(
    web, database
):
    admin, key, _ = await one_item(web)
    before = await stored_count(database, recs)

    response = await web.post(submit_vars(key), {"items": [{}] * 200_001}, token=admin)

    assert response.status_code == 413, response.text[:200]
    error = response.json()["errors"][0]
    assert "200,000 values" in error["message"]
    assert await stored_count(database, recs) == before


async def test_thirty_thousand_valid_items_are_invalid_input_and_nothing_is_stored(web, database):
    # 150,000 values: under the variables limit, so it is the batch limit that refuses.
    admin, key, _ = await one_item(web)
    before = await stored_count(database, recs)
    items = [{"payload": {"n": 1}, "proposedAction": "A", "confidence": 0.8}] * 30_000

    data = await web(submit_vars(key), {"items": items}, token=admin)

    assert data["submitRecommendations"]["__typename"] == "InvalidInput"
    assert data["submitRecommendations"]["field"] == "items"
    assert await stored_count(database, recs) == before


# ------------------------------------------------------------------ bytes and nesting


@pytest.mark.parametrize(
    "escape",
    ["\\udc80", "\\ud800", "\\ud800\\u0041", "\\udfff\\ud800"],
    ids=["lone-low", "lone-high", "high-then-letter", "reversed-pair"],
)
async def test_invalid_utf8_inside_a_json_string_escape_is_a_bad_request(web, database, escape):
    """Valid JSON syntax, but a lone surrogate is no Unicode text: it must not reach a
    column (SQLite and PostgreSQL cannot store it) and must not become a 500."""
    admin, key, _ = await one_item(web)
    before = await stored_count(database, recs)
    query = json.dumps(submit_vars(key))
    body = (
        f'{{"query": {query}, "variables": {{"items": [{{"payload": {{"note": "{escape}"}}, '
        f'"proposedAction": "A", "confidence": 0.8, "subject": "{escape}"}}]}}}}'
    )

    response = await post_raw(web, admin, body.encode())

    assert response.status_code == 400, response.text[:300]
    assert response.text.strip()
    assert await stored_count(database, recs) == before


async def test_variables_nested_ten_thousand_levels_deep_are_a_bad_request(web, database):
    admin, key, _ = await one_item(web)
    before = await stored_count(database, recs)
    payload = '{"a": ' * 10_000 + "1" + "}" * 10_000
    body = (
        f'{{"query": {json.dumps(submit_vars(key))}, "variables": {{"items": [{{"payload": '
        f'{payload}, "proposedAction": "A", "confidence": 0.8}}]}}}}'
    )

    response = await post_raw(web, admin, body)

    assert response.status_code == 400, response.text[:300]
    assert await stored_count(database, recs) == before


async def test_a_list_nested_ten_thousand_levels_deep_is_a_bad_request(web):
    admin = await create_user(web.services, "admin")
    body = '{"query": "{ me { id } }", "variables": {"x": ' + "[" * 10_000 + "]" * 10_000 + "}}"

    response = await post_raw(web, admin, body)

    assert response.status_code == 400, response.text[:300]


async def test_a_payload_forty_levels_deep_in_variables_is_invalid_input(web, database):
    """Under the parser's nesting limit, over the domain's (32): InvalidInput, nothing stored."""
    admin = await create_user(web.services, "admin")
    workflow = await create_workflow(web, admin)
    payload: dict[str, Any] = {"leaf": 1}
    for _ in range(39):
        payload = {"child": payload}
    items = [{"payload": payload, "proposedAction": "A", "confidence": 0.8}]

    data = await web(submit_vars(workflow["key"]), {"items": items}, token=admin)

    assert data["submitRecommendations"]["__typename"] == "InvalidInput"
    assert data["submitRecommendations"]["field"] == "items[0].payload"
    assert await stored_count(database, recs) == 0
