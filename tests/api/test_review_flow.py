"""The newcomer's first five minutes, through GraphQL: submit, claim, approve, override, read."""

from __future__ import annotations

import sqlalchemy as sa

from store.tables import DecisionRow, RecommendationRow
from tests.factories import create_user, create_workflow, submit_one

DECISION_FIELDS = """
  __typename
  ... on DecisionSuccess {
    decision { id verdict finalAction dwellMs actor { name } auditHash policyVersion }
    recommendation { id status finalAction version decidedAt claim { expiresAt } }
  }
  ... on Conflict { message currentStatus currentVersion }
  ... on Problem { message }
"""

CLAIM_NEXT = """
mutation($wf: String!) {
  claimNext(workflow: $wf) {
    __typename
    ... on ClaimSuccess { recommendation { id status version } claim { reviewer { name } } }
    ... on Problem { message }
  }
}
"""

APPROVE = f"""
mutation($id: ID!, $v: Int) {{ approve(id: $id, expectedVersion: $v) {{ {DECISION_FIELDS} }} }}
"""
OVERRIDE = f"""
mutation($id: ID!, $action: String!, $reason: String!) {{
  override(id: $id, action: $action, reason: $reason, reasonTags: ["young company"]) {{
    {DECISION_FIELDS}
  }}
}}"""


async def test_an_analyst_claims_the_most_urgent_item_and_approves_it(gql, database):
    services = gql.services
    admin = await create_user(services, "admin")
    model = await create_user(services, "service")
    analyst = await create_user(services, "analyst", name="ana")
    workflow = await create_workflow(gql, admin)
    item = await submit_one(gql, model, workflow["key"], confidence=0.8)
    assert (item["tier"], item["status"]) == ("ANALYST_REVIEW", "PENDING")

    claimed = (await gql(CLAIM_NEXT, {"wf": workflow["key"]}, token=analyst))["claimNext"]
    assert claimed["__typename"] == "ClaimSuccess"
    assert claimed["recommendation"]["id"] == item["id"]
    assert claimed["recommendation"]["status"] == "CLAIMED"
    assert claimed["claim"]["reviewer"]["name"] == "ana"

    version = claimed["recommendation"]["version"]
    result = (await gql(APPROVE, {"id": item["id"], "v": version}, token=analyst))["approve"]
    assert result["__typename"] == "DecisionSuccess"
    assert result["decision"]["verdict"] == "APPROVE"
    assert result["decision"]["finalAction"] == "A"
    assert result["decision"]["actor"]["name"] == "ana"
    assert result["decision"]["dwellMs"] is not None
    assert result["decision"]["policyVersion"] == 1
    assert result["recommendation"]["status"] == "APPROVED"
    assert result["recommendation"]["claim"] is None

    async with database.read_engine.connect() as connection:
        row = (
            await connection.execute(
                sa.select(RecommendationRow.__table__).where(
                    RecommendationRow.__table__.c.id == item["id"]
                )
            )
        ).one()
        decisions = (
            await connection.execute(sa.select(sa.func.count()).select_from(DecisionRow.__table__))
        ).scalar_one()
    assert row.status == "APPROVED"
    assert row.claimed_by_id is None
    assert decisions == 1


async def test_an_expert_overrides_with_a_reason_and_the_override_is_logged(gql):
    services = gql.services
    admin = await create_user(services, "admin")
    model = await create_user(services, "service")
    senior = await create_user(services, "senior", name="sen")
    workflow = await create_workflow(gql, admin)
    item = await submit_one(gql, model, workflow["key"], confidence=0.6)
    assert item["tier"] == "SENIOR_REVIEW"

    result = (
        await gql(
            OVERRIDE,
            {"id": item["id"], "action": "B", "reason": "founded 1.2 years ago"},
            token=senior,
        )
    )["override"]
    assert result["__typename"] == "DecisionSuccess", result
    assert result["recommendation"]["status"] == "OVERRIDDEN"
    assert result["recommendation"]["finalAction"] == "B"

    log = await gql(
        """query($wf: String!) {
             overrides(workflow: $wf) { totalCount edges { node {
               proposedAction chosenAction reason reviewer { name } decision { verdict reasonTags }
               recommendation { id }
             } } }
             decisions(workflow: $wf) { totalCount edges { node { verdict reason sequence } } }
           }""",
        {"wf": workflow["key"]},
        token=admin,
    )
    override = log["overrides"]["edges"][0]["node"]
    assert log["overrides"]["totalCount"] == 1
    assert (override["proposedAction"], override["chosenAction"]) == ("A", "B")
    assert override["reason"] == "founded 1.2 years ago"
    assert override["reviewer"]["name"] == "sen"
    assert override["decision"] == {"verdict": "OVERRIDE", "reasonTags": ["young company"]}
    assert override["recommendation"]["id"] == item["id"]
    assert log["decisions"]["edges"][0]["node"]["sequence"] == 1


async def test_a_second_decision_on_the_same_item_is_a_conflict(gql):
    services = gql.services
    admin = await create_user(services, "admin")
    model = await create_user(services, "service")
    workflow = await create_workflow(gql, admin)
    item = await submit_one(gql, model, workflow["key"], confidence=0.8)

    first = (await gql(APPROVE, {"id": item["id"]}, token=admin))["approve"]
    second = (await gql(APPROVE, {"id": item["id"]}, token=admin))["approve"]
    assert first["__typename"] == "DecisionSuccess"
    assert second["__typename"] == "Conflict"
    assert second["currentStatus"] == "APPROVED"
