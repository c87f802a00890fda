"""Hostile and malformed requests: query shape limits, request hygiene, input limits,
health endpoints, GraphiQL, CORS and masked server errors. None of them may become a 500."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import pytest_asyncio
import sqlalchemy as sa

import store.queries
from api.app import create_app
from store.tables import DecisionRow, RecommendationRow
from tests.conftest import GraphQLClient, make_settings
from tests.factories import SUBMIT, create_user, create_workflow, submit_one

recs = RecommendationRow.__table__
decisions_t = DecisionRow.__table__

JSON_HEADERS = {"Content-Type": "application/json"}


@asynccontextmanager
async def http_with(database_url: str, **overrides: Any) -> AsyncIterator[GraphQLClient]:
    """A client on an app built with these settings overrides. A crash in the app is answered
    as a real server would (HTTP 500) instead of being raised into the test."""
    app = create_app(make_settings(database_url, **overrides))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield GraphQLClient(http, app.state.services)


@pytest_asyncio.fixture(loop_scope="session")
async def web(database: Any, database_url: str) -> AsyncIterator[GraphQLClient]:
    """Like `gql`, but a server fault shows as HTTP 500, as a client would see it."""
    async with http_with(database_url) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def errors_of(response: httpx.Response) -> list[dict[str, Any]]:
    """A refused GraphQL request: HTTP 200 or 400, a list of errors, no data."""
    assert response.status_code in (200, 400), response.text
    body = response.json()
    assert body.get("errors"), body
    assert not body.get("data"), body
    return list(body["errors"])


async def stored_count(database: Any, table: Any) -> int:
    async with database.read_engine.connect() as connection:
        return int(
            (await connection.execute(sa.select(sa.func.count()).select_from(table))).scalar_one()
        )


async def one_item(client: Any) -> tuple[str, str, dict[str, Any]]:
    """An admin token, the workflow key and one PENDING ANALYST_REVIEW item."""
    admin = await create_user(client.services, "admin", name="admin")
    model = await create_user(client.services, "service", name="model")
    workflow = await create_workflow(client, admin)
    item = await submit_one(client, model, workflow["key"])
    return admin, workflow["key"], item


async def stored_item(database: Any, rec_id: str) -> Any:
    async with database.read_engine.connect() as connection:
        return (await connection.execute(sa.select(recs).where(recs.c.id == rec_id))).one()


def chain(levels: int) -> str:
    """A selection `levels` fields deep: recommendation { decisions { recommendation { ... id."""
    fields = ["decisions", "recommendation"]
    inner = "id"
    for level in range(levels - 2):
        inner = f"{fields[level % 2]} {{ {inner} }}"
    return inner


# ------------------------------------------------------------------ query shape


async def test_a_query_deeper_than_ten_levels_is_refused_for_its_depth(web):
    admin = await create_user(web.services, "admin")
    query = f'{{ recommendation(id: "rec_x") {{ {chain(12)} }} }}'

    response = await web.post(query, token=admin)

    errors = errors_of(response)
    assert "depth" in errors[0]["message"], errors


async def test_a_query_of_exactly_the_allowed_depth_runs(web):
    admin = await create_user(web.services, "admin")
    query = f'{{ recommendation(id: "rec_x") {{ {chain(11)} }} }}'

    data = await web(query, token=admin)

    assert data == {"recommendation": None}


async def test_a_too_deep_mutation_is_not_executed(web, database):
    admin, _, item = await one_item(web)
    query = f"""mutation($id: ID!) {{ approve(id: $id) {{
        ... on DecisionSuccess {{ recommendation {{ {chain(14)} }} }} }} }}"""

    response = await web.post(query, {"id": item["id"]}, token=admin)

    errors = errors_of(response)
    assert "depth" in errors[0]["message"]
    assert (await stored_item(database, item["id"])).status == "PENDING"
    assert await stored_count(database, decisions_t) == 0


async def test_a_deeply_nested_introspection_query_is_refused(web):
    admin = await create_user(web.services, "admin")
    levels = 4
    query = (
        "{ __schema { types { name "
        + "fields { name type { name " * levels
        + "kind"
        + " } }" * levels
        + " } } }"
    )

    response = await web.post(query, token=admin)

    errors = errors_of(response)
    assert "introspection depth" in errors[0]["message"], errors


async def test_more_than_thirty_aliases_are_refused_and_nothing_runs(web, database):
    admin, _, item = await one_item(web)
    claims = " ".join(f"c{n}: claim(id: $id) {{ __typename }}" for n in range(31))

    response = await web.post(f"mutation($id: ID!) {{ {claims} }}", {"id": item["id"]}, token=admin)

    errors = errors_of(response)
    assert "alias" in errors[0]["message"].lower(), errors
    row = await stored_item(database, item["id"])
    assert (row.status, row.version) == ("PENDING", item["version"])


async def test_thirty_aliases_are_allowed(web):
    admin = await create_user(web.services, "admin", name="admin")
    query = "{ " + " ".join(f"m{n}: me {{ name }}" for n in range(30)) + " }"

    data = await web(query, token=admin)

    assert len(data) == 30
    assert {v["name"] for v in data.values()} == {"admin"}


async def test_a_query_with_too_many_tokens_is_refused(web, database):
    admin, _, item = await one_item(web)
    query = "mutation($id: ID!) { approve(id: $id) { __typename " + "__typename " * 5_000 + "} }"

    response = await web.post(query, {"id": item["id"]}, token=admin)

    errors = errors_of(response)
    assert "token" in errors[0]["message"].lower(), errors
    assert (await stored_item(database, item["id"])).status == "PENDING"


async def test_an_unknown_field_is_a_listed_error(web):
    admin = await create_user(web.services, "admin")

    response = await web.post("{ me { id password } }", token=admin)

    errors = errors_of(response)
    assert any("password" in e["message"] for e in errors), errors


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("query($id: ID!) { recommendation(id: $id) { id } }", {"id": {"not": "an id"}}),
        ("query($id: ID!) { recommendation(id: $id) { id } }", {}),
        (
            "query($wf: String!, $n: Int!) { queue(workflow: $wf, first: $n) { totalCount } }",
            {"wf": "x", "n": "ten"},
        ),
        (
            "query($wf: String!, $n: Int!) { queue(workflow: $wf, first: $n) { totalCount } }",
            {"wf": "x", "n": 2**40},
        ),
        (
            "query($wf: String!, $t: [Tier!]) { queue(workflow: $wf, tiers: $t) { totalCount } }",
            {"wf": "x", "t": ["NOT_A_TIER"]},
        ),
    ],
    ids=["object-for-id", "missing", "string-for-int", "int-too-large", "unknown-enum"],
)
async def test_variables_of_the_wrong_type_are_an_error(web, query, variables):
    admin = await create_user(web.services, "admin")

    response = await web.post(query, variables, token=admin)

    errors_of(response)


# ------------------------------------------------------------------ request hygiene


async def test_a_twenty_megabyte_body_is_refused_as_too_large(web):
    admin = await create_user(web.services, "admin")
    body = json.dumps({"query": "{ me { id } }", "padding": "x" * (20 * 1024 * 1024)})

    response = await web.http.post(
        "/graphql", content=body, headers={**JSON_HEADERS, **bearer(admin)}
    )

    assert response.status_code == 413, response.text[:200]
    assert response.json()["errors"][0]["extensions"]["code"] == "TOO_LARGE"


async def test_a_streamed_body_without_a_length_is_cut_off_at_the_limit(database, database_url):
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"query": "{ me { id } }", "padding": "'
        for _ in range(10):
            yield b"x" * 500
        yield b'"}'

    async with http_with(database_url, max_body_bytes=1_000) as client:
        response = await client.http.post("/graphql", content=chunks(), headers=JSON_HEADERS)

    assert response.status_code == 413, response.text


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None],
)
async def test_a_body_that_is_not_json_is_an_unsupported_media_type(web, content_type):
    admin = await create_user(web.services, "admin")
    headers = bearer(admin)
    if content_type:
        headers["Content-Type"] = content_type

    response = await web.http.post(
        "/graphql", content=b'{"query": "{ me { id } }"}', headers=headers
    )

    assert response.status_code == 415, response.text
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert "data" not in body


async def test_a_query_sent_by_get_without_a_token_is_refused(web):
    response = await web.http.get("/graphql", params={"query": "{ me { id name } }"})

    assert response.status_code == 401, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_mutation_sent_by_get_is_not_executed(web, database):
    admin, _, item = await one_item(web)
    query = f'mutation {{ approve(id: "{item["id"]}") {{ __typename }} }}'

    response = await web.http.get("/graphql", params={"query": query}, headers=bearer(admin))

    assert response.status_code == 405, response.text
    assert response.headers["allow"] == "POST"
    assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"
    assert (await stored_item(database, item["id"])).status == "PENDING"


async def test_a_body_that_is_not_valid_json_is_a_bad_request(web):
    admin = await create_user(web.services, "admin")

    response = await web.http.post(
        "/graphql", content=b'{"query": "{ me { id } }"', headers={**JSON_HEADERS, **bearer(admin)}
    )

    assert response.status_code == 400, response.text
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_REQUEST" and "JSON" in error["message"]


async def test_a_body_that_is_not_valid_utf8_is_a_bad_request(web):
    admin = await create_user(web.services, "admin")

    response = await web.http.post(
        "/graphql",
        content=b'{"query": "{ me { id } }", "x": "\xff\xfe\xc3\x28"}',
        headers={**JSON_HEADERS, **bearer(admin)},
    )

    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_a_batch_of_operations_in_a_json_array_is_refused(web, database):
    admin, _, item = await one_item(web)
    batch = [
        {"query": f'mutation {{ approve(id: "{item["id"]}") {{ __typename }} }}'},
        {"query": "{ me { id } }"},
    ]

    response = await web.http.post(
        "/graphql", content=json.dumps(batch), headers={**JSON_HEADERS, **bearer(admin)}
    )

    assert 400 <= response.status_code < 500, response.text
    assert response.text
    assert (await stored_item(database, item["id"])).status == "PENDING"


@pytest.mark.parametrize(
    "body", [b"null", b"42", b'"{ me { id } }"', b"{}", b'{"query": 5}'], ids=repr
)
async def test_a_json_body_that_is_not_a_graphql_request_is_a_client_error(web, body):
    admin = await create_user(web.services, "admin")

    response = await web.http.post(
        "/graphql", content=body, headers={**JSON_HEADERS, **bearer(admin)}
    )

    assert 400 <= response.status_code < 500, response.text


async def test_a_request_without_a_token_is_unauthenticated(web):
    response = await web.post("{ me { id } }")

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_request_with_an_unknown_token_is_unauthenticated(web):
    response = await web.post("{ me { id } }", token="not-a-token")

    assert response.status_code == 401


# ------------------------------------------------------------------ input limits


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": True}
    for _ in range(depth - 1):
        value = {"child": value}
    return value


async def test_a_deeply_nested_payload_is_invalid_input_and_nothing_is_stored(web, database):
    admin = await create_user(web.services, "admin")
    workflow = await create_workflow(web, admin)
    items = [
        {"payload": {"amount": 1}, "proposedAction": "A", "confidence": 0.8},
        {"payload": nested(100), "proposedAction": "A", "confidence": 0.8},
    ]

    data = await web(SUBMIT, {"workflow": workflow["key"], "items": items}, token=admin)

    result = data["submitRecommendations"]
    assert result["__typename"] == "InvalidInput", result
    assert result["field"] == "items[1].payload"
    assert await stored_count(database, recs) == 0


async def test_a_payload_nested_in_the_query_text_is_refused_too(web, database):
    admin = await create_user(web.services, "admin")
    workflow = await create_workflow(web, admin)
    literal = "{leaf: true}"
    for _ in range(99):
        literal = f"{{child: {literal}}}"
    query = f"""mutation {{ submitRecommendations(workflow: "{workflow["key"]}", items: [
        {{payload: {literal}, proposedAction: "A", confidence: 0.8}}]) {{
        __typename ... on InvalidInput {{ field }} }} }}"""

    response = await web.post(query, token=admin)

    assert response.status_code in (200, 400), response.text
    body = response.json()
    if body.get("data"):
        assert body["data"]["submitRecommendations"]["__typename"] == "InvalidInput"
    else:
        assert body["errors"]
    assert await stored_count(database, recs) == 0


async def test_a_batch_of_1001_items_is_invalid_input_and_nothing_is_stored(web, database):
    admin = await create_user(web.services, "admin")
    workflow = await create_workflow(web, admin)
    items = [{"payload": {}, "proposedAction": "A", "confidence": 0.8}] * 1_001

    data = await web(SUBMIT, {"workflow": workflow["key"], "items": items}, token=admin)

    result = data["submitRecommendations"]
    assert result["__typename"] == "InvalidInput", result
    assert result["field"] == "items"
    assert await stored_count(database, recs) == 0


# ------------------------------------------------------------------ operations


async def test_healthz_answers_ok(web):
    response = await web.http.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_answers_ok_with_the_database_ok(web):
    response = await web.http.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


async def test_graphiql_is_served_to_a_browser(web):
    response = await web.http.get("/graphql", headers={"Accept": "text/html"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "graphiql" in response.text.lower()


async def test_graphiql_can_be_switched_off(database, database_url):
    async with http_with(database_url, graphiql=False) as client:
        response = await client.http.get("/graphql", headers={"Accept": "text/html"})

    assert response.status_code != 200 or "graphiql" not in response.text.lower()
    assert response.status_code < 500


async def test_cors_preflight_is_answered_for_an_allowed_origin_only(database, database_url):
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }
    async with http_with(database_url, allowed_origins=["http://app.example"]) as client:
        allowed = await client.http.options(
            "/graphql", headers={"Origin": "http://app.example", **preflight}
        )
        other = await client.http.options(
            "/graphql", headers={"Origin": "http://evil.example", **preflight}
        )

    assert allowed.status_code == 200, allowed.text
    assert allowed.headers["access-control-allow-origin"] == "http://app.example"
    assert "POST" in allowed.headers["access-control-allow-methods"]
    assert "access-control-allow-origin" not in other.headers


async def test_a_cross_origin_post_is_labelled_only_for_an_allowed_origin(database, database_url):
    async with http_with(database_url, allowed_origins=["http://app.example"]) as client:
        allowed = await client.http.post(
            "/graphql", json={"query": "{ me { id } }"}, headers={"Origin": "http://app.example"}
        )
        other = await client.http.post(
            "/graphql", json={"query": "{ me { id } }"}, headers={"Origin": "http://evil.example"}
        )

    assert allowed.headers.get("access-control-allow-origin") == "http://app.example"
    assert "access-control-allow-origin" not in other.headers


async def test_an_unexpected_server_error_is_masked(web, monkeypatch):
    admin = await create_user(web.services, "admin")

    async def broken(self: Any, ids: Any = None) -> Any:
        raise RuntimeError("connection to db-primary.internal:5432 failed, password=hunter2")

    monkeypatch.setattr(store.queries.Reads, "workflows", broken)

    response = await web.post("{ workflows { key } }", token=admin)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["errors"][0]["message"] == "Unexpected error."
    assert "hunter2" not in response.text
    assert "db-primary" not in response.text


async def test_a_query_level_error_meant_for_the_caller_is_not_masked(web):
    admin = await create_user(web.services, "admin")

    response = await web.post('{ queue(workflow: "no-such-workflow") { totalCount } }', token=admin)

    errors = errors_of(response)
    assert "no-such-workflow" in errors[0]["message"]
