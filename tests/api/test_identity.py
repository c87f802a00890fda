"""Users, their tokens and deactivation through GraphQL: who may do what, and what each
does to the tokens a user holds."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.conftest import GraphQLClient
from tests.factories import create_user

ME = "{ me { id name role active } }"
USERS = "query($all: Boolean!) { users(includeInactive: $all) { id name active } }"
DEACTIVATE = """mutation($id: ID!) { deactivateUser(id: $id) {
  __typename ... on UserUpdated { user { id active } } ... on Problem { message }
  ... on InvalidInput { field } } }"""
ISSUE = """mutation($user: ID!, $seconds: Int) {
  issueToken(user: $user, expiresInSeconds: $seconds) {
  __typename ... on TokenSuccess { token expiresAt user { id } } ... on Problem { message }
  ... on InvalidInput { field } } }"""
REVOKE = """mutation($user: ID!) { revokeTokens(user: $user) {
  __typename ... on UserUpdated { user { id active } } ... on Problem { message } } }"""


async def me(gql: GraphQLClient, token: str) -> dict[str, Any]:
    return dict((await gql(ME, token=token))["me"])


async def status_of(gql: GraphQLClient, token: str) -> int:
    return (await gql.post(ME, token=token)).status_code


async def test_an_admin_lists_active_users_and_with_include_inactive_the_deactivated_too(gql):
    admin = await create_user(gql.services, "admin", name="root")
    analyst = await create_user(gql.services, "analyst", name="ana")
    ana = await me(gql, analyst)

    assert (await gql(DEACTIVATE, {"id": ana["id"]}, token=admin))["deactivateUser"][
        "__typename"
    ] == "UserUpdated"

    active = (await gql(USERS, {"all": False}, token=admin))["users"]
    everyone = (await gql(USERS, {"all": True}, token=admin))["users"]
    assert [u["name"] for u in active] == ["root"]
    assert {u["name"]: u["active"] for u in everyone} == {"root": True, "ana": False}


@pytest.mark.parametrize("role", ["ANALYST", "SENIOR", "SERVICE"])
async def test_users_is_forbidden_to_anyone_but_an_admin(gql, role):
    token = await create_user(gql.services, role)
    body = (await gql.post(USERS, {"all": True}, token)).json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
    assert not (body.get("data") or {}).get("users")


async def test_a_deactivated_users_every_token_is_refused_and_the_user_reads_inactive(gql):
    admin = await create_user(gql.services, "admin")
    first = await create_user(gql.services, "analyst", name="ben")
    ben = await me(gql, first)
    second = (await gql(ISSUE, {"user": ben["id"], "seconds": None}, token=first))["issueToken"]
    assert await status_of(gql, second["token"]) == 200

    result = (await gql(DEACTIVATE, {"id": ben["id"]}, token=admin))["deactivateUser"]

    assert result == {"__typename": "UserUpdated", "user": {"id": ben["id"], "active": False}}
    assert await status_of(gql, first) == 401
    assert await status_of(gql, second["token"]) == 401


async def test_an_admin_cannot_deactivate_themselves_and_stays_signed_in(gql):
    admin = await create_user(gql.services, "admin")
    own = await me(gql, admin)

    result = (await gql(DEACTIVATE, {"id": own["id"]}, token=admin))["deactivateUser"]

    assert result["__typename"] == "InvalidInput"
    assert "locked out" in result["message"]
    assert (await me(gql, admin))["active"] is True


async def test_deactivating_an_unknown_user_is_not_found(gql):
    admin = await create_user(gql.services, "admin")
    result = (await gql(DEACTIVATE, {"id": "usr_nobody"}, token=admin))["deactivateUser"]
    assert result["__typename"] == "NotFound"


async def test_a_user_issues_themselves_several_tokens_each_working_until_revoked(gql):
    token = await create_user(gql.services, "senior", name="cleo")
    cleo = await me(gql, token)

    issued = [
        (await gql(ISSUE, {"user": cleo["id"], "seconds": None}, token=token))["issueToken"]
        for _ in range(2)
    ]
    tokens = [token, *(result["token"] for result in issued)]
    assert len(set(tokens)) == 3
    for each in tokens:
        assert (await me(gql, each))["name"] == "cleo"

    revoked = (await gql(REVOKE, {"user": cleo["id"]}, token=issued[0]["token"]))["revokeTokens"]

    assert revoked["__typename"] == "UserUpdated"
    assert [await status_of(gql, each) for each in tokens] == [401, 401, 401]


async def test_a_token_with_an_expiry_says_when_and_a_non_positive_expiry_is_invalid(gql):
    token = await create_user(gql.services, "analyst")
    own = await me(gql, token)

    lasting = (await gql(ISSUE, {"user": own["id"], "seconds": 3600}, token=token))["issueToken"]
    zero = (await gql(ISSUE, {"user": own["id"], "seconds": 0}, token=token))["issueToken"]
    negative = (await gql(ISSUE, {"user": own["id"], "seconds": -5}, token=token))["issueToken"]

    assert lasting["__typename"] == "TokenSuccess" and lasting["expiresAt"]
    for refused in (zero, negative):
        assert refused["__typename"] == "InvalidInput", refused
        assert refused["field"] == "expiresInSeconds"


async def test_an_expired_token_is_refused_though_it_was_remembered_by_the_cache(gql):
    token = await create_user(gql.services, "analyst")
    own = await me(gql, token)
    short = (await gql(ISSUE, {"user": own["id"], "seconds": 1}, token=token))["issueToken"]
    assert await status_of(gql, short["token"]) == 200

    for _ in range(30):  # expires one second after it was issued
        if await status_of(gql, short["token"]) == 401:
            break
        await asyncio.sleep(0.1)
    assert await status_of(gql, short["token"]) == 401
    assert await status_of(gql, token) == 200


async def test_a_user_may_not_issue_or_revoke_another_users_tokens_but_an_admin_may(gql):
    admin = await create_user(gql.services, "admin")
    one = await create_user(gql.services, "analyst")
    other = await me(gql, await create_user(gql.services, "analyst"))

    issued = (await gql(ISSUE, {"user": other["id"]}, token=one))["issueToken"]
    revoked = (await gql(REVOKE, {"user": other["id"]}, token=one))["revokeTokens"]
    by_admin = (await gql(ISSUE, {"user": other["id"]}, token=admin))["issueToken"]

    assert (issued["__typename"], revoked["__typename"]) == ("Forbidden", "Forbidden")
    assert by_admin["__typename"] == "TokenSuccess"
    assert (await me(gql, by_admin["token"]))["id"] == other["id"]


async def test_no_token_is_issued_to_a_deactivated_user(gql):
    admin = await create_user(gql.services, "admin")
    gone = await me(gql, await create_user(gql.services, "analyst"))
    await gql(DEACTIVATE, {"id": gone["id"]}, token=admin)

    result = (await gql(ISSUE, {"user": gone["id"]}, token=admin))["issueToken"]

    assert result["__typename"] == "InvalidInput"
