"""Teams through GraphQL: a workflow's teams see, claim and decide its items; to everyone
else they do not exist. On SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from store.tables import admin_actions_t, workflow_teams_t
from tests.factories import create_user, create_workflow, submit_one

ME = "{ me { id name } }"
CREATE_TEAM = """
mutation($key: String!, $name: String!, $members: [ID!]!) {
  createTeam(key: $key, name: $name, members: $members) {
    __typename
    ... on TeamSuccess { team { id key name members { name } workflows { key } } }
    ... on InvalidInput { field }
    ... on Problem { message }
  }
}"""
SET_MEMBERS = """
mutation($team: String!, $members: [ID!]!) {
  setTeamMembers(team: $team, members: $members) {
    __typename
    ... on TeamSuccess { team { key members { name } } }
    ... on InvalidInput { field }
    ... on Problem { message }
  }
}"""
SET_WORKFLOW_TEAMS = """
mutation($wf: String!, $teams: [String!]!) {
  setWorkflowTeams(workflow: $wf, teams: $teams) {
    __typename
    ... on WorkflowSuccess { workflow { key teams { key } } }
    ... on InvalidInput { field }
    ... on Problem { message }
  }
}"""
SEE = """
query($wf: String!, $id: ID!) {
  queue(workflow: $wf) { totalCount edges { node { id } } }
  recommendation(id: $id) { id }
  node(id: $id) { id }
  decisions(workflow: $wf) { totalCount }
  workflow(key: $wf) { queueCounts { count } }
}"""
CLAIM_NEXT = """
mutation($wf: String!) { claimNext(workflow: $wf) {
  __typename ... on ClaimSuccess { recommendation { id } } ... on Problem { message } } }"""
CLAIM = "mutation($id: ID!) { claim(id: $id) { __typename ... on Problem { message } } }"
APPROVE = """
mutation($id: ID!) { approve(id: $id) {
  __typename ... on DecisionSuccess { decision { id } } ... on Problem { message } } }"""
DIVERGENCE = "query($wf: String!) { divergence(workflow: $wf, window: MONTH) { decisions } }"


async def user_id(gql: Any, token: str) -> str:
    return str((await gql(ME, token=token))["me"]["id"])


async def create_team(gql: Any, admin: str, key: str, *members: str) -> dict[str, Any]:
    ids = [await user_id(gql, token) for token in members]
    result = await gql(CREATE_TEAM, {"key": key, "name": key.title(), "members": ids}, token=admin)
    return dict(result["createTeam"])


async def sight(gql: Any, token: str, workflow: str, item: str) -> dict[str, Any]:
    data = await gql(SEE, {"wf": workflow, "id": item}, token=token)
    return {
        "queue": data["queue"]["totalCount"],
        "recommendation": data["recommendation"] is not None,
        "node": data["node"] is not None,
        "decisions": data["decisions"]["totalCount"],
        "counts": sum(c["count"] for c in data["workflow"]["queueCounts"]),
    }


async def test_an_admin_creates_two_teams_and_pins_a_workflow_to_one(gql):
    services = gql.services
    admin = await create_user(services, "admin")
    ana = await create_user(services, "analyst", name="ana")
    bob = await create_user(services, "analyst", name="bob")
    workflow = await create_workflow(gql, admin)

    loans = await create_team(gql, admin, "loans", ana)
    fraud = await create_team(gql, admin, "fraud", bob)
    assert loans["__typename"] == fraud["__typename"] == "TeamSuccess", (loans, fraud)
    assert loans["team"]["members"] == [{"name": "ana"}]
    pinned = await gql(SET_WORKFLOW_TEAMS, {"wf": workflow["key"], "teams": ["loans"]}, token=admin)
    assert pinned["setWorkflowTeams"] == {
        "__typename": "WorkflowSuccess",
        "workflow": {"key": workflow["key"], "teams": [{"key": "loans"}]},
    }

    teams = (await gql("{ teams { key workflows { key } members { name } } }", token=bob))["teams"]
    assert teams == [
        {"key": "fraud", "workflows": [], "members": [{"name": "bob"}]},
        {"key": "loans", "workflows": [{"key": workflow["key"]}], "members": [{"name": "ana"}]},
    ]
    mine = await gql("{ me { teams { key } } }", token=ana)
    found = await gql(
        "query($id: ID!) { node(id: $id) { ... on Team { key } } }",
        {"id": loans["team"]["id"]},
        token=ana,
    )
    assert mine["me"]["teams"] == [{"key": "loans"}]
    assert found["node"] == {"key": "loans"}


async def test_a_workflows_team_sees_its_items_and_to_others_they_do_not_exist(gql, database):
    services = gql.services
    admin = await create_user(services, "admin")
    model = await create_user(services, "service")
    ana = await create_user(services, "analyst", name="ana")
    bob = await create_user(services, "analyst", name="bob")
    workflow = await create_workflow(gql, admin)
    key = workflow["key"]
    await create_team(gql, admin, "loans", ana)
    await create_team(gql, admin, "fraud", bob)
    await gql(SET_WORKFLOW_TEAMS, {"wf": key, "teams": ["loans"]}, token=admin)
    first = await submit_one(gql, model, key, confidence=0.8, externalId="1")
    second = await submit_one(gql, model, key, confidence=0.8, externalId="2")

    seen = {"queue": 2, "recommendation": True, "node": True, "decisions": 0, "counts": 2}
    unseen = {"queue": 0, "recommendation": False, "node": False, "decisions": 0, "counts": 0}
    assert await sight(gql, ana, key, first["id"]) == seen
    assert await sight(gql, admin, key, first["id"]) == seen
    assert await sight(gql, bob, key, first["id"]) == unseen

    claimed = (await gql(CLAIM_NEXT, {"wf": key}, token=bob))["claimNext"]
    assert claimed["__typename"] == "QueueEmpty", claimed
    assert (await gql(CLAIM, {"id": first["id"]}, token=bob))["claim"]["__typename"] == "NotFound"
    refused = (await gql(APPROVE, {"id": first["id"]}, token=bob))["approve"]
    assert refused["__typename"] == "NotFound"
    divergence = (await gql.post(DIVERGENCE, {"wf": key}, token=bob)).json()
    assert divergence["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    approved = (await gql(APPROVE, {"id": first["id"]}, token=ana))["approve"]
    assert approved["__typename"] == "DecisionSuccess", approved
    assert (await sight(gql, ana, key, first["id"]))["decisions"] == 1
    assert (await sight(gql, bob, key, second["id"]))["decisions"] == 0

    # Membership decides at once: bob joins the team and sees the items.
    ids = [await user_id(gql, ana), await user_id(gql, bob)]
    moved = await gql(SET_MEMBERS, {"team": "loans", "members": ids}, token=admin)
    assert moved["setTeamMembers"]["__typename"] == "TeamSuccess"
    assert (await sight(gql, bob, key, second["id"]))["queue"] == 1
    claimed = (await gql(CLAIM_NEXT, {"wf": key}, token=bob))["claimNext"]
    assert claimed == {"__typename": "ClaimSuccess", "recommendation": {"id": second["id"]}}


async def test_a_workflow_without_teams_is_open_to_every_fitting_role(gql):
    services = gql.services
    admin = await create_user(services, "admin")
    model = await create_user(services, "service")
    ana = await create_user(services, "analyst")
    workflow = await create_workflow(gql, admin)
    await create_team(gql, admin, "loans")
    await gql(SET_WORKFLOW_TEAMS, {"wf": workflow["key"], "teams": ["loans"]}, token=admin)
    item = await submit_one(gql, model, workflow["key"], confidence=0.8)
    assert (await sight(gql, ana, workflow["key"], item["id"]))["queue"] == 0

    opened = await gql(SET_WORKFLOW_TEAMS, {"wf": workflow["key"], "teams": []}, token=admin)

    assert opened["setWorkflowTeams"]["workflow"]["teams"] == []
    assert (await sight(gql, ana, workflow["key"], item["id"]))["queue"] == 1


async def test_an_unknown_team_is_invalid_input_and_changes_nothing(gql, database):
    admin = await create_user(gql.services, "admin")
    workflow = await create_workflow(gql, admin)
    await create_team(gql, admin, "loans")
    await gql(SET_WORKFLOW_TEAMS, {"wf": workflow["key"], "teams": ["loans"]}, token=admin)

    refused = await gql(
        SET_WORKFLOW_TEAMS, {"wf": workflow["key"], "teams": ["fraud", "loans"]}, token=admin
    )
    unknown_workflow = await gql(SET_WORKFLOW_TEAMS, {"wf": "nope", "teams": []}, token=admin)

    assert refused["setWorkflowTeams"]["__typename"] == "InvalidInput"
    assert refused["setWorkflowTeams"]["field"] == "teams"
    assert "'fraud'" in refused["setWorkflowTeams"]["message"]
    assert unknown_workflow["setWorkflowTeams"]["__typename"] == "InvalidInput"
    async with database.read_engine.connect() as connection:
        rows = (await connection.execute(sa.select(workflow_teams_t))).all()
    assert len(rows) == 1


async def test_team_mistakes_are_typed_and_change_nothing(gql, database):
    services = gql.services
    admin = await create_user(services, "admin")
    ana = await create_user(services, "analyst")
    assert (await create_team(gql, admin, "loans", ana))["__typename"] == "TeamSuccess"

    again = await create_team(gql, admin, "loans")
    bad_key = await create_team(gql, admin, "Loans Team")
    bad_member = (
        await gql(
            CREATE_TEAM, {"key": "fraud", "name": "F", "members": ["usr_nobody"]}, token=admin
        )
    )["createTeam"]
    by_analyst = await create_team(gql, ana, "mine")
    no_team = await gql(SET_MEMBERS, {"team": "nope", "members": []}, token=admin)

    assert again["__typename"] == "Conflict"
    assert (bad_key["__typename"], bad_key["field"]) == ("InvalidInput", "key")
    assert (bad_member["__typename"], bad_member["field"]) == ("InvalidInput", "members")
    assert by_analyst["__typename"] == "Forbidden"
    assert no_team["setTeamMembers"]["__typename"] == "NotFound"
    teams = (await gql("{ teams { key } }", token=admin))["teams"]
    assert teams == [{"key": "loans"}]


async def test_every_team_change_is_in_the_admin_record(gql, database):
    services = gql.services
    admin = await create_user(services, "admin")
    ana = await create_user(services, "analyst")
    workflow = await create_workflow(gql, admin)
    await create_team(gql, admin, "loans", ana)
    await gql(SET_MEMBERS, {"team": "loans", "members": []}, token=admin)
    await gql(SET_WORKFLOW_TEAMS, {"wf": workflow["key"], "teams": ["loans"]}, token=admin)

    async with database.read_engine.connect() as connection:
        rows = (
            await connection.execute(
                sa.select(
                    admin_actions_t.c.action, admin_actions_t.c.target, admin_actions_t.c.details
                )
                .where(
                    admin_actions_t.c.action.in_(
                        ["createTeam", "setTeamMembers", "setWorkflowTeams"]
                    )
                )
                .order_by(admin_actions_t.c.at)
            )
        ).all()
    assert [(r.action, r.target) for r in rows] == [
        ("createTeam", "loans"),
        ("setTeamMembers", "loans"),
        ("setWorkflowTeams", workflow["key"]),
    ]
    assert rows[2].details == {"teams": ["loans"]}
