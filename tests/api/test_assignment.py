"""assign(id, reviewer | team): a pinned item is handed only to its reviewer or team; the
others get Forbidden. On SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from store.tables import admin_actions_t, events_t
from tests.api.test_teams import (
    APPROVE,
    CLAIM,
    CLAIM_NEXT,
    SET_WORKFLOW_TEAMS,
    create_team,
    user_id,
)
from tests.factories import create_user, create_workflow, submit_one

ASSIGN = """
mutation($id: ID!, $reviewer: ID, $team: String) {
  assign(id: $id, reviewer: $reviewer, team: $team) {
    __typename
    ... on RecommendationSuccess { recommendation {
      id status version assignee { name } assignedTeam { key } claims { reviewer { name } }
    } }
    ... on InvalidInput { field }
    ... on Problem { message }
  }
}"""


async def assign(gql: Any, token: str, item: str, **target: Any) -> dict[str, Any]:
    return dict((await gql(ASSIGN, {"id": item, **target}, token=token))["assign"])


async def kinds_of_events(database: Any, item: str) -> list[str]:
    async with database.read_engine.connect() as connection:
        rows = await connection.execute(
            sa.select(events_t.c.kind)
            .where(events_t.c.recommendation_id == item)
            .order_by(events_t.c.seq)
        )
        return [str(kind) for (kind,) in rows]


async def test_an_item_pinned_to_a_reviewer_is_handed_only_to_them(gql, database):
    services = gql.services
    admin = await create_user(services, "admin")
    model = await create_user(services, "service")
    ana = await create_user(services, "analyst", name="ana")
    bob = await create_user(services, "analyst", name="bob")
    workflow = await create_workflow(gql, admin)
    item = await submit_one(gql, model, workflow["key"], confidence=0.8)

    pinned = await assign(gql, admin, item["id"], reviewer=await user_id(gql, bob))

    assert pinned["__typename"] == "RecommendationSuccess", pinned
    assert pinned["recommendation"]["assignee"] == {"name": "bob"}
    assert (await gql(CLAIM_NEXT, {"wf": workflow["key"]}, token=ana))["claimNext"][
        "__typename"
    ] == "QueueEmpty"
    assert (await gql(CLAIM, {"id": item["id"]}, token=ana))["claim"]["__typename"] == "Forbidden"
    refused = (await gql(APPROVE, {"id": item["id"]}, token=ana))["approve"]
    assert refused["__typename"] == "Forbidden" and "another reviewer" in refused["message"]
    claimed = (await gql(CLAIM_NEXT, {"wf": workflow["key"]}, token=bob))["claimNext"]
    assert claimed == {"__typename": "ClaimSuccess", "recommendation": {"id": item["id"]}}
    assert (await gql(APPROVE, {"id": item["id"]}, token=bob))["approve"][
        "__typename"
    ] == "DecisionSuccess"
    assert await kinds_of_events(database, item["id"]) == [
        "ADDED",
        "ASSIGNED",
        "CLAIMED",
        "DECIDED",
    ]


async def test_an_item_pinned_to_a_team_is_its_members_and_unpinning_frees_it(gql, database):
    services = gql.services
    admin = await create_user(services, "admin")
    model = await create_user(services, "service")
    ana = await create_user(services, "analyst", name="ana")
    bob = await create_user(services, "analyst", name="bob")
    workflow = await create_workflow(gql, admin)
    await create_team(gql, admin, "night", bob)
    item = await submit_one(gql, model, workflow["key"], confidence=0.8)

    pinned = await assign(gql, admin, item["id"], team="night")
    assert pinned["recommendation"]["assignedTeam"] == {"key": "night"}
    assert (await gql(CLAIM, {"id": item["id"]}, token=ana))["claim"]["__typename"] == "Forbidden"

    unpinned = await assign(gql, admin, item["id"])

    assert unpinned["recommendation"]["assignee"] is None
    assert unpinned["recommendation"]["assignedTeam"] is None
    claimed = (await gql(CLAIM_NEXT, {"wf": workflow["key"]}, token=ana))["claimNext"]
    assert claimed["__typename"] == "ClaimSuccess"
    assert await kinds_of_events(database, item["id"]) == [
        "ADDED",
        "ASSIGNED",
        "ASSIGNED",
        "CLAIMED",
    ]


async def test_assigning_away_ends_the_claim_of_the_reviewer_it_excludes(gql):
    services = gql.services
    admin = await create_user(services, "admin")
    model = await create_user(services, "service")
    ana = await create_user(services, "analyst", name="ana")
    bob = await create_user(services, "analyst", name="bob")
    workflow = await create_workflow(gql, admin)
    item = await submit_one(gql, model, workflow["key"], confidence=0.8)
    await gql(CLAIM, {"id": item["id"]}, token=ana)

    kept = await assign(gql, admin, item["id"], reviewer=await user_id(gql, ana))
    moved = await assign(gql, admin, item["id"], reviewer=await user_id(gql, bob))

    assert kept["recommendation"]["claims"] == [{"reviewer": {"name": "ana"}}]
    assert moved["recommendation"]["claims"] == []
    assert moved["recommendation"]["status"] == "PENDING"


async def test_a_senior_assigns_within_workflows_they_review_and_an_analyst_may_not(gql):
    services = gql.services
    admin = await create_user(services, "admin")
    model = await create_user(services, "service")
    sam = await create_user(services, "senior", name="sam")
    ana = await create_user(services, "analyst", name="ana")
    ours = await create_workflow(gql, admin)
    theirs = await create_workflow(gql, admin)
    await create_team(gql, admin, "loans", sam, ana)
    await create_team(gql, admin, "fraud")
    await gql(SET_WORKFLOW_TEAMS, {"wf": ours["key"], "teams": ["loans"]}, token=admin)
    await gql(SET_WORKFLOW_TEAMS, {"wf": theirs["key"], "teams": ["fraud"]}, token=admin)
    mine = await submit_one(gql, model, ours["key"], confidence=0.8)
    other = await submit_one(gql, model, theirs["key"], confidence=0.8)
    ana_id = await user_id(gql, ana)

    by_senior = await assign(gql, sam, mine["id"], reviewer=ana_id)
    elsewhere = await assign(gql, sam, other["id"], reviewer=ana_id)
    by_analyst = await assign(gql, ana, mine["id"], reviewer=ana_id)

    assert by_senior["__typename"] == "RecommendationSuccess"
    assert elsewhere["__typename"] == "NotFound"  # its items do not exist for sam
    assert by_analyst["__typename"] == "Forbidden"


async def test_assignment_mistakes_are_typed_and_change_nothing(gql, database):
    services = gql.services
    admin = await create_user(services, "admin")
    model = await create_user(services, "service")
    ana = await create_user(services, "analyst", name="ana")
    outsider = await create_user(services, "analyst", name="out")
    workflow = await create_workflow(gql, admin)
    await create_team(gql, admin, "loans", ana)
    await create_team(gql, admin, "fraud", outsider)
    await gql(SET_WORKFLOW_TEAMS, {"wf": workflow["key"], "teams": ["loans"]}, token=admin)
    item = await submit_one(gql, model, workflow["key"], confidence=0.8)
    senior_item = await submit_one(gql, model, workflow["key"], confidence=0.55)
    decided = await submit_one(gql, model, workflow["key"], confidence=0.8)
    await gql(APPROVE, {"id": decided["id"]}, token=ana)
    ana_id = await user_id(gql, ana)

    both = await assign(gql, admin, item["id"], reviewer=ana_id, team="loans")
    nobody = await assign(gql, admin, item["id"], reviewer="usr_nobody")
    not_on_team = await assign(gql, admin, item["id"], reviewer=await user_id(gql, outsider))
    other_team = await assign(gql, admin, item["id"], team="fraud")
    unknown_team = await assign(gql, admin, item["id"], team="nope")
    too_junior = await assign(gql, admin, senior_item["id"], reviewer=ana_id)
    too_late = await assign(gql, admin, decided["id"], reviewer=ana_id)
    missing = await assign(gql, admin, "rec_nothing", reviewer=ana_id)

    assert [(r["__typename"], r.get("field")) for r in (both, nobody, not_on_team, other_team)] == [
        ("InvalidInput", "team"),
        ("InvalidInput", "reviewer"),
        ("InvalidInput", "reviewer"),
        ("InvalidInput", "team"),
    ]
    assert (unknown_team["__typename"], unknown_team["field"]) == ("InvalidInput", "team")
    assert (too_junior["__typename"], too_junior["field"]) == ("InvalidInput", "reviewer")
    assert too_late["__typename"] == "Conflict"
    assert missing["__typename"] == "NotFound"
    assert await kinds_of_events(database, item["id"]) == ["ADDED"]
    async with database.read_engine.connect() as connection:
        recorded = (
            await connection.execute(
                sa.select(sa.func.count()).where(admin_actions_t.c.action == "assign")
            )
        ).scalar_one()
    assert recorded == 0


async def test_each_assignment_is_in_the_admin_record(gql, database):
    services = gql.services
    admin = await create_user(services, "admin")
    model = await create_user(services, "service")
    ana = await create_user(services, "analyst")
    workflow = await create_workflow(gql, admin)
    item = await submit_one(gql, model, workflow["key"], confidence=0.8)
    ana_id = await user_id(gql, ana)

    await assign(gql, admin, item["id"], reviewer=ana_id)
    await assign(gql, admin, item["id"])

    async with database.read_engine.connect() as connection:
        rows = (
            await connection.execute(
                sa.select(admin_actions_t.c.target, admin_actions_t.c.details)
                .where(admin_actions_t.c.action == "assign")
                .order_by(admin_actions_t.c.at)
            )
        ).all()
    assert [(r.target, r.details) for r in rows] == [
        (item["id"], {"reviewer": ana_id, "team": None}),
        (item["id"], {"reviewer": None, "team": None}),
    ]
