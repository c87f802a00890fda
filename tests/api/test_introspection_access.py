"""Introspection and field suggestions: open to every authenticated user by default
(frontend tooling needs them), for admins only with ARBITER_INTROSPECTION=admin."""

from __future__ import annotations

from typing import Any

from tests.api.test_hardening import http_with
from tests.factories import create_user

SCHEMA = "{ __schema { queryType { name } } }"
TYPE = '{ __type(name: "Recommendation") { name } }'
TYPO = "{ mee { name } }"


async def answer(client: Any, token: str, query: str) -> dict[str, Any]:
    response = await client.post(query, token=token)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_by_default_a_reviewer_may_introspect_and_reads_suggestions(gql):
    analyst = await create_user(gql.services, "analyst")

    schema = await answer(gql, analyst, SCHEMA)
    typo = await answer(gql, analyst, TYPO)

    assert schema == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
    assert "Did you mean 'me'?" in typo["errors"][0]["message"]


async def test_restricted_to_admins_a_reviewer_can_neither_introspect_nor_read_suggestions(
    database_url, database
):
    async with http_with(database_url, introspection="admin") as client:
        analyst = await create_user(client.services, "analyst")
        refused = [await answer(client, analyst, q) for q in (SCHEMA, TYPE)]
        typo = await answer(client, analyst, TYPO)
        plain = await answer(client, analyst, "{ me { __typename } }")

    for body in refused:
        assert body["data"] is None
        assert "introspection is not allowed" in body["errors"][0]["message"].lower()
    message = typo["errors"][0]["message"]
    assert message == "Cannot query field 'mee' on type 'Query'."
    assert plain == {"data": {"me": {"__typename": "User"}}}


async def test_restricted_to_admins_an_admin_still_introspects(database_url, database):
    async with http_with(database_url, introspection="admin") as client:
        admin = await create_user(client.services, "admin")
        schema = await answer(client, admin, SCHEMA)
        typo = await answer(client, admin, TYPO)

    assert schema["data"]["__schema"]["queryType"]["name"] == "Query"
    assert "Did you mean" in typo["errors"][0]["message"]
