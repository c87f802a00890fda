"""Every admin action is recorded (who, when, what, on what; secrets left out) in the
transaction of the change, and admins read the record newest first, page by page."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import GraphQLClient
from tests.factories import create_user, create_workflow

ACTIONS = """query($first: Int, $after: String) { adminActions(first: $first, after: $after) {
  id action target details at actor { id name } } }"""
CREATE_USER = """mutation { createUser(name: "newcomer", role: ANALYST) {
  __typename ... on UserSuccess { token user { id } } } }"""
ME = "{ me { id } }"
POLICY = """mutation { updateEscalationPolicy(workflow: "shop", input: {autoApproveAt: 0.95}) {
  __typename } }"""
WEBHOOK = """mutation { createWebhook(workflow: "shop", url: "http://127.0.0.1:9/hook",
  events: [ESCALATED]) { __typename ... on WebhookSuccess { secret webhook { id } } } }"""
DELETE_WEBHOOK = "mutation($id: ID!) { deleteWebhook(id: $id) { __typename } }"
ISSUE = """mutation($user: ID!) { issueToken(user: $user, expiresInSeconds: 60) {
  __typename ... on TokenSuccess { token } } }"""
REVOKE = "mutation($user: ID!) { revokeTokens(user: $user) { __typename } }"
DEACTIVATE = "mutation($id: ID!) { deactivateUser(id: $id) { __typename } }"


async def actions(gql: GraphQLClient, admin: str, **variables: Any) -> list[dict[str, Any]]:
    return list((await gql(ACTIONS, variables, token=admin))["adminActions"])


async def test_every_admin_mutation_is_recorded_newest_first_without_its_secrets(gql):
    admin = await create_user(gql.services, "admin", name="root")
    root = (await gql(ME, token=admin))["me"]["id"]
    await create_workflow(gql, admin, key="shop")
    await gql(POLICY, token=admin)
    created = (await gql(CREATE_USER, token=admin))["createUser"]
    newcomer = created["user"]["id"]
    hook = (await gql(WEBHOOK, token=admin))["createWebhook"]
    await gql(DELETE_WEBHOOK, {"id": hook["webhook"]["id"]}, token=admin)
    issued = (await gql(ISSUE, {"user": newcomer}, token=admin))["issueToken"]
    await gql(REVOKE, {"user": newcomer}, token=admin)
    await gql(DEACTIVATE, {"id": newcomer}, token=admin)

    record = await actions(gql, admin)

    assert [a["action"] for a in record] == [
        "deactivateUser",
        "revokeTokens",
        "issueToken",
        "deleteWebhook",
        "createWebhook",
        "createUser",
        "updateEscalationPolicy",
        "createWorkflow",
        "createUser",  # root itself, by the command line (the test's factory)
    ]
    by_root = record[:-1]
    assert {a["actor"]["name"] for a in by_root} == {"root"}
    assert {a["actor"]["id"] for a in by_root} == {root}
    assert record[-1]["actor"]["id"] == "operator" and record[-1]["target"] == root
    targets = {a["action"]: a["target"] for a in by_root}
    assert targets["createWorkflow"] == "shop" and targets["updateEscalationPolicy"] == "shop"
    assert targets["createWebhook"] == hook["webhook"]["id"] and targets["issueToken"] == newcomer
    details = {a["action"]: a["details"] for a in by_root}
    assert details["updateEscalationPolicy"]["changes"] == {"autoApproveAt": 0.95}
    assert details["createWebhook"]["url"] == "http://127.0.0.1:9/hook"
    assert details["createUser"] == {"name": "newcomer", "role": "ANALYST"}
    assert details["issueToken"] == {"expiresInSeconds": 60}
    everything = json.dumps(record)
    for secret in (hook["secret"], created["token"], issued["token"], admin):
        assert secret not in everything


async def test_a_refused_admin_mutation_records_nothing(gql):
    admin = await create_user(gql.services, "admin")
    analyst = await create_user(gql.services, "analyst")
    await create_workflow(gql, admin, key="shop")
    before = await actions(gql, admin)

    assert (await gql(POLICY, token=analyst))["updateEscalationPolicy"]["__typename"] == (
        "Forbidden"
    )
    assert (await gql(CREATE_USER, token=analyst))["createUser"]["__typename"] == "Forbidden"

    assert await actions(gql, admin) == before


async def test_admin_actions_page_by_the_id_of_the_last_action_of_the_previous_page(gql):
    admin = await create_user(gql.services, "admin")
    for n in range(5):
        await create_workflow(gql, admin, key=f"wf-page-{n}")
    everything = await actions(gql, admin, first=50)

    seen: list[str] = []
    after = None
    while True:
        page = await actions(gql, admin, first=2, after=after)
        if not page:
            break
        assert len(page) <= 2
        seen.extend(a["id"] for a in page)
        after = page[-1]["id"]

    assert seen == [a["id"] for a in everything]
    assert len(seen) == 6  # five workflows and the admin's own creation
    times = [a["at"] for a in everything]
    assert times == sorted(times, reverse=True)


@pytest.mark.parametrize("after", ["garbage", "act_not-there", "", "x" * 300])
async def test_an_after_that_is_no_actions_id_is_bad_user_input_naming_the_cursor(gql, after):
    admin = await create_user(gql.services, "admin")

    body = (await gql.post(ACTIONS, {"first": 5, "after": after}, admin)).json()

    assert body.get("data") is None, body
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", body
    assert "cursor" in error["message"] and "adminActions" in error["message"]


@pytest.mark.parametrize("role", ["ANALYST", "SENIOR", "SERVICE"])
async def test_admin_actions_are_forbidden_to_anyone_but_an_admin(gql, role):
    token = await create_user(gql.services, role)
    body = (await gql.post(ACTIONS, {}, token)).json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
