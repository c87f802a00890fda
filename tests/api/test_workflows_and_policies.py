"""Workflows and their escalation policies: creation, versioned updates, and re-routing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from store.tables import metadata
from tests.factories import create_user, create_workflow, submit_one

POLICY_FIELDS = """
  version autoApproveAt analystAt seniorAt belowFloor analystSlaSeconds seniorSlaSeconds
  highStakesAt auditSampleRate minDwellMs canaryRate maxDailyDecisionsPerReviewer undoSeconds
  note changedAt changedBy { name }
"""

WORKFLOW_FIELDS = f"""
  id key name kind reviewerRole actions scoreLabel createdAt
  policy {{ {POLICY_FIELDS} }}
"""

CREATE = f"""
mutation($input: WorkflowInput!) {{
  createWorkflow(input: $input) {{
    __typename
    ... on WorkflowSuccess {{ workflow {{ {WORKFLOW_FIELDS} }} }}
    ... on InvalidInput {{ field }}
    ... on Problem {{ message }}
  }}
}}
"""

UPDATE = f"""
mutation($wf: String!, $input: EscalationPolicyInput!) {{
  updateEscalationPolicy(workflow: $wf, input: $input) {{
    __typename
    ... on PolicySuccess {{ rerouted policy {{ {POLICY_FIELDS} }} }}
    ... on InvalidInput {{ field }}
    ... on Problem {{ message }}
  }}
}}
"""

WORKFLOW = f"""
query($key: String!) {{
  workflow(key: $key) {{ {WORKFLOW_FIELDS} policyHistory {{ {POLICY_FIELDS} }} }}
}}
"""

ITEM = """
query($id: ID!) {
  recommendation(id: $id) {
    id tier status version slaDueAt finalAction decidedAt
    decisions { verdict automated policyVersion finalAction actor { name } }
  }
}
"""

APPROVE = """
mutation($id: ID!) {
  approve(id: $id) {
    __typename
    ... on DecisionSuccess { decision { verdict policyVersion } }
    ... on Problem { message }
  }
}
"""

DEFAULT_POLICY = {
    "version": 1,
    "autoApproveAt": 0.90,
    "analystAt": 0.70,
    "seniorAt": 0.50,
    "belowFloor": "REJECT",
    "analystSlaSeconds": 14400,
    "seniorSlaSeconds": 86400,
    "highStakesAt": None,
    "auditSampleRate": 0.0,
    "minDwellMs": 0,
    "canaryRate": 0.0,
    "maxDailyDecisionsPerReviewer": None,
    "undoSeconds": 30,
    "note": None,
}


def spec(**fields: Any) -> dict[str, Any]:
    return {
        "key": "loans",
        "name": "Loan approvals",
        "kind": "CLASSIFICATION",
        "reviewerRole": "EXPERT",
        "actions": ["APPROVE_LOAN", "DECLINE_LOAN"],
        **fields,
    }


def parse(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def about(value: str | None, expected: datetime, slack: float = 60) -> bool:
    assert value is not None
    return abs((parse(value) - expected).total_seconds()) < slack


async def count(database: Any, table_name: str) -> int:
    table = metadata.tables[table_name]
    async with database.read_engine.connect() as connection:
        return int(
            (await connection.execute(sa.select(sa.func.count()).select_from(table))).scalar_one()
        )


async def stored_policies(database: Any) -> list[tuple[int, float, float, float, str | None]]:
    table = metadata.tables["escalation_policies"]
    async with database.read_engine.connect() as connection:
        rows = await connection.execute(
            sa.select(
                table.c.version,
                table.c.auto_approve_at,
                table.c.analyst_at,
                table.c.senior_at,
                table.c.note,
            ).order_by(table.c.version)
        )
        return [tuple(row) for row in rows]


async def stored_items(database: Any) -> dict[str, tuple[str, str]]:
    table = metadata.tables["recommendations"]
    async with database.read_engine.connect() as connection:
        rows = await connection.execute(sa.select(table.c.id, table.c.tier, table.c.status))
        return {row.id: (row.tier, row.status) for row in rows}


async def update(gql: Any, admin: str, key: str, **changes: Any) -> dict[str, Any]:
    data = await gql(UPDATE, {"wf": key, "input": changes}, token=admin)
    return dict(data["updateEscalationPolicy"])


# ---------------------------------------------------------------- createWorkflow


async def test_a_new_workflow_gets_the_default_policy_as_version_1(gql, database):
    admin = await create_user(gql.services, "admin", name="root")

    result = (await gql(CREATE, {"input": spec(scoreLabel="repaid")}, token=admin))[
        "createWorkflow"
    ]

    assert result["__typename"] == "WorkflowSuccess", result
    workflow = result["workflow"]
    assert workflow["key"] == "loans"
    assert workflow["name"] == "Loan approvals"
    assert workflow["kind"] == "CLASSIFICATION"
    assert workflow["reviewerRole"] == "EXPERT"
    assert workflow["actions"] == ["APPROVE_LOAN", "DECLINE_LOAN"]
    assert workflow["scoreLabel"] == "repaid"
    policy = workflow["policy"]
    assert {k: policy[k] for k in DEFAULT_POLICY} == DEFAULT_POLICY
    assert policy["changedBy"] == {"name": "root"}
    assert about(policy["changedAt"], datetime.now(UTC))
    assert await stored_policies(database) == [(1, 0.90, 0.70, 0.50, None)]


async def test_workflows_and_workflow_by_key_list_a_created_workflow(gql):
    admin = await create_user(gql.services, "admin")
    analyst = await create_user(gql.services, "analyst")
    created = await create_workflow(gql, admin, key="claims")

    listed = (await gql("query { workflows { id key policy { version } } }", token=analyst))[
        "workflows"
    ]
    one = (await gql(WORKFLOW, {"key": "claims"}, token=analyst))["workflow"]
    missing = (await gql(WORKFLOW, {"key": "nope"}, token=analyst))["workflow"]

    assert listed == [{"id": created["id"], "key": "claims", "policy": {"version": 1}}]
    assert one["id"] == created["id"]
    assert one["actions"] == ["A", "B", "C"]
    assert [p["version"] for p in one["policyHistory"]] == [1]
    assert missing is None


async def test_a_workflow_key_in_use_is_a_conflict(gql, database):
    admin = await create_user(gql.services, "admin")
    await create_workflow(gql, admin, key="loans")

    again = (await gql(CREATE, {"input": spec(name="Another")}, token=admin))["createWorkflow"]

    assert again["__typename"] == "Conflict", again
    assert await count(database, "workflows") == 1
    assert await count(database, "escalation_policies") == 1


INVALID_WORKFLOWS = {
    "key with upper case and a space": (spec(key="Bad Key"), "key"),
    "empty key": (spec(key=""), "key"),
    "key starting with a dash": (spec(key="-loans"), "key"),
    "blank name": (spec(name="  "), "name"),
    "one action": (spec(actions=["ONLY"]), "actions"),
    "no actions": (spec(actions=[]), "actions"),
    "duplicate actions": (spec(actions=["A", "B", "A"]), "actions"),
    "duplicate actions after trimming": (spec(actions=["A", " A "]), "actions"),
    "blank action": (spec(actions=["A", " "]), "actions"),
    "EDITOR on CLASSIFICATION": (spec(reviewerRole="EDITOR"), "reviewerRole"),
    "seniorAt above analystAt": (spec(policy={"seniorAt": 0.8}), "seniorAt"),
    "analystAt above autoApproveAt": (spec(policy={"analystAt": 0.95}), "analystAt"),
    "autoApproveAt above 1": (spec(policy={"autoApproveAt": 1.2}), "autoApproveAt"),
    "audit rate above 1": (spec(policy={"auditSampleRate": 1.5}), "auditSampleRate"),
    "negative SLA": (spec(policy={"seniorSlaSeconds": -1}), "seniorSlaSeconds"),
    "null autoApproveAt": (spec(policy={"autoApproveAt": None}), "autoApproveAt"),
}


@pytest.mark.parametrize(
    ("given", "field"), list(INVALID_WORKFLOWS.values()), ids=list(INVALID_WORKFLOWS)
)
async def test_an_invalid_workflow_is_invalid_input_naming_the_field_and_nothing_is_stored(
    gql, database, given, field
):
    admin = await create_user(gql.services, "admin")

    result = (await gql(CREATE, {"input": given}, token=admin))["createWorkflow"]

    assert result["__typename"] == "InvalidInput", result
    assert result["field"] == field
    assert result["message"]
    assert await count(database, "workflows") == 0
    assert await count(database, "escalation_policies") == 0


async def test_an_initial_policy_is_merged_into_the_defaults(gql, database):
    admin = await create_user(gql.services, "admin")

    result = (
        await gql(
            CREATE,
            {"input": spec(policy={"autoApproveAt": 0.95, "highStakesAt": 1000, "note": "v1"})},
            token=admin,
        )
    )["createWorkflow"]

    assert result["__typename"] == "WorkflowSuccess", result
    policy = result["workflow"]["policy"]
    assert policy["version"] == 1
    assert policy["autoApproveAt"] == 0.95
    assert policy["highStakesAt"] == 1000
    assert policy["note"] == "v1"
    assert (policy["analystAt"], policy["seniorAt"]) == (0.70, 0.50)
    assert await stored_policies(database) == [(1, 0.95, 0.70, 0.50, "v1")]


# ---------------------------------------------------------------- updateEscalationPolicy


async def test_an_update_merges_into_a_new_version_and_history_keeps_every_version(gql, database):
    admin = await create_user(gql.services, "admin", name="root")
    workflow = await create_workflow(gql, admin, policy={"highStakesAt": 500})

    second = await update(gql, admin, workflow["key"], analystAt=0.75, note="tighter")
    third = await update(gql, admin, workflow["key"], highStakesAt=None, undoSeconds=60)

    assert second["__typename"] == "PolicySuccess", second
    policy = second["policy"]
    assert policy["version"] == 2
    assert policy["analystAt"] == 0.75
    assert policy["note"] == "tighter"
    assert policy["changedBy"] == {"name": "root"}
    assert about(policy["changedAt"], datetime.now(UTC))
    # Fields left out keep their values.
    assert policy["autoApproveAt"] == 0.90
    assert policy["seniorAt"] == 0.50
    assert policy["highStakesAt"] == 500
    assert policy["analystSlaSeconds"] == 14400
    assert second["rerouted"] == 0

    assert third["__typename"] == "PolicySuccess", third
    assert third["policy"]["version"] == 3
    assert third["policy"]["highStakesAt"] is None  # an explicit null clears a nullable field
    assert third["policy"]["undoSeconds"] == 60
    assert third["policy"]["analystAt"] == 0.75
    assert third["policy"]["note"] is None  # a note describes one change

    read = (await gql(WORKFLOW, {"key": workflow["key"]}, token=admin))["workflow"]
    assert read["policy"]["version"] == 3
    history = read["policyHistory"]
    assert [p["version"] for p in history] == [1, 2, 3]
    assert [p["analystAt"] for p in history] == [0.70, 0.75, 0.75]
    assert [p["note"] for p in history] == [None, "tighter", None]
    assert [p["changedBy"]["name"] for p in history] == ["root", "root", "root"]
    assert [p["highStakesAt"] for p in history] == [500, 500, None]
    assert await stored_policies(database) == [
        (1, 0.90, 0.70, 0.50, None),
        (2, 0.90, 0.75, 0.50, "tighter"),
        (3, 0.90, 0.75, 0.50, None),
    ]


INVALID_UPDATES = {
    "seniorAt above analystAt": ({"seniorAt": 0.8}, "seniorAt"),
    "analystAt below seniorAt": ({"analystAt": 0.4}, ("seniorAt", "analystAt")),
    "audit rate 1.5": ({"auditSampleRate": 1.5}, "auditSampleRate"),
    "negative canary rate": ({"canaryRate": -0.1}, "canaryRate"),
    "negative analyst SLA": ({"analystSlaSeconds": -1}, "analystSlaSeconds"),
    "negative dwell": ({"minDwellMs": -5}, "minDwellMs"),
    "null autoApproveAt": ({"autoApproveAt": None}, "autoApproveAt"),
    "null belowFloor": ({"belowFloor": None}, "belowFloor"),
    "zero daily cap": ({"maxDailyDecisionsPerReviewer": 0}, "maxDailyDecisionsPerReviewer"),
    "note too long": ({"note": "x" * 1001}, "note"),
    # PostgreSQL cannot store U+0000; other text fields refuse it (domain/validation.text).
    "note with a NUL character": ({"note": "before\u0000after"}, "note"),
}


@pytest.mark.parametrize(
    ("changes", "field"), list(INVALID_UPDATES.values()), ids=list(INVALID_UPDATES)
)
async def test_an_invalid_update_names_the_field_and_writes_no_new_version(
    gql, database, changes, field
):
    admin = await create_user(gql.services, "admin")
    model = await create_user(gql.services, "service")
    workflow = await create_workflow(gql, admin)
    item = await submit_one(gql, model, workflow["key"], confidence=0.8)

    result = await update(gql, admin, workflow["key"], **changes)

    assert result["__typename"] == "InvalidInput", result
    assert result["field"] in ((field,) if isinstance(field, str) else field)
    assert await stored_policies(database) == [(1, 0.90, 0.70, 0.50, None)]
    read = (await gql(WORKFLOW, {"key": workflow["key"]}, token=admin))["workflow"]
    assert read["policy"]["version"] == 1
    assert len(read["policyHistory"]) == 1
    assert await stored_items(database) == {item["id"]: ("ANALYST_REVIEW", "PENDING")}


async def test_updating_the_policy_of_an_unknown_workflow_is_not_found(gql, database):
    admin = await create_user(gql.services, "admin")

    result = await update(gql, admin, "no-such-workflow", analystAt=0.75)

    assert result["__typename"] == "NotFound", result
    assert await count(database, "escalation_policies") == 0


# ---------------------------------------------------------------- re-routing


async def test_an_update_reroutes_pending_items_but_leaves_claimed_ones(gql, database):
    services = gql.services
    admin = await create_user(services, "admin")
    model = await create_user(services, "service")
    analyst = await create_user(services, "analyst")
    workflow = await create_workflow(gql, admin)
    key = workflow["key"]
    clears_auto = await submit_one(gql, model, key, confidence=0.82)
    falls_to_senior = await submit_one(gql, model, key, confidence=0.72)
    stays_senior = await submit_one(gql, model, key, confidence=0.60)
    falls_below = await submit_one(gql, model, key, confidence=0.52)
    claimed = await submit_one(gql, model, key, confidence=0.85)
    took = (
        await gql(
            "mutation($id: ID!) { claim(id: $id) { __typename } }",
            {"id": claimed["id"]},
            token=analyst,
        )
    )["claim"]
    assert took["__typename"] == "ClaimSuccess"
    assert [i["tier"] for i in (clears_auto, falls_to_senior, stays_senior, falls_below)] == [
        "ANALYST_REVIEW",
        "ANALYST_REVIEW",
        "SENIOR_REVIEW",
        "SENIOR_REVIEW",
    ]

    result = await update(
        gql, admin, key, autoApproveAt=0.80, analystAt=0.75, seniorAt=0.55, note="recalibrated"
    )

    assert result["__typename"] == "PolicySuccess", result
    assert result["policy"]["version"] == 2
    assert result["rerouted"] == 3
    assert await stored_items(database) == {
        clears_auto["id"]: ("AUTO_APPROVE", "APPROVED"),
        falls_to_senior["id"]: ("SENIOR_REVIEW", "PENDING"),
        stays_senior["id"]: ("SENIOR_REVIEW", "PENDING"),
        falls_below["id"]: ("BELOW_FLOOR", "REJECTED"),
        claimed["id"]: ("ANALYST_REVIEW", "CLAIMED"),
    }

    auto = (await gql(ITEM, {"id": clears_auto["id"]}, token=admin))["recommendation"]
    assert auto["status"] == "APPROVED"
    assert auto["finalAction"] == "A"
    assert auto["decidedAt"] is not None
    assert auto["version"] > clears_auto["version"]
    assert auto["decisions"] == [
        {
            "verdict": "APPROVE",
            "automated": True,
            "policyVersion": 2,
            "finalAction": "A",
            "actor": None,
        }
    ]
    below = (await gql(ITEM, {"id": falls_below["id"]}, token=admin))["recommendation"]
    assert [(d["verdict"], d["automated"], d["policyVersion"]) for d in below["decisions"]] == [
        ("REJECT", True, 2)
    ]
    moved = (await gql(ITEM, {"id": falls_to_senior["id"]}, token=admin))["recommendation"]
    assert moved["decisions"] == []
    assert about(moved["slaDueAt"], datetime.now(UTC) + timedelta(hours=24))
    untouched = (await gql(ITEM, {"id": claimed["id"]}, token=admin))["recommendation"]
    assert untouched["decisions"] == []


async def test_a_decision_records_the_policy_version_it_was_made_under(gql, database):
    services = gql.services
    admin = await create_user(services, "admin")
    model = await create_user(services, "service")
    analyst = await create_user(services, "analyst")
    workflow = await create_workflow(gql, admin)
    before = await submit_one(gql, model, workflow["key"], confidence=0.8)
    after = await submit_one(gql, model, workflow["key"], confidence=0.8)

    first = (await gql(APPROVE, {"id": before["id"]}, token=analyst))["approve"]
    changed = await update(gql, admin, workflow["key"], minDwellMs=1500)
    second = (await gql(APPROVE, {"id": after["id"]}, token=analyst))["approve"]

    assert changed["__typename"] == "PolicySuccess"
    assert changed["rerouted"] == 0
    assert first["decision"] == {"verdict": "APPROVE", "policyVersion": 1}
    assert second["decision"] == {"verdict": "APPROVE", "policyVersion": 2}
    decisions = metadata.tables["decisions"]
    async with database.read_engine.connect() as connection:
        stored = {
            row.recommendation_id: row.policy_version
            for row in await connection.execute(
                sa.select(decisions.c.recommendation_id, decisions.c.policy_version)
            )
        }
    assert stored == {before["id"]: 1, after["id"]: 2}


async def test_an_item_whose_lease_ran_out_is_rerouted_like_any_pending_item(gql, database):
    """Readers and claimNext treat an expired lease as PENDING, so re-routing should too."""
    services = gql.services
    admin = await create_user(services, "admin")
    model = await create_user(services, "service")
    analyst = await create_user(services, "analyst")
    workflow = await create_workflow(gql, admin)
    item = await submit_one(gql, model, workflow["key"], confidence=0.72)
    took = (
        await gql(
            "mutation($id: ID!) { claim(id: $id) { __typename } }",
            {"id": item["id"]},
            token=analyst,
        )
    )["claim"]
    assert took["__typename"] == "ClaimSuccess"
    recs = metadata.tables["recommendations"]
    async with database.write_engine.begin() as connection:  # the lease runs out
        await connection.execute(
            recs.update()
            .where(recs.c.id == item["id"])
            .values(claim_expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )
    seen = (await gql(ITEM, {"id": item["id"]}, token=admin))["recommendation"]
    assert seen["status"] == "PENDING"

    result = await update(gql, admin, workflow["key"], analystAt=0.75)

    assert result["__typename"] == "PolicySuccess", result
    after = (await gql(ITEM, {"id": item["id"]}, token=admin))["recommendation"]
    assert (after["tier"], after["status"]) == ("SENIOR_REVIEW", "PENDING")
    assert result["rerouted"] == 1
