"""The model's side: batches come in atomically and each item is routed by the ladder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from store.tables import metadata
from tests.factories import create_user, create_workflow, proposal, submit_one

ITEM_FIELDS = """
  id externalId subject payload proposedAction confidence stakes modelVersion
  tier status version slaDueAt finalAction decidedAt sampledForAudit
  explanation { feature value contribution }
  draft { original content originalPredictedScore predictedScore }
  decisions { verdict automated finalAction policyVersion actor { name } }
"""

SUBMIT = f"""
mutation($workflow: String!, $items: [RecommendationInput!]!) {{
  submitRecommendations(workflow: $workflow, items: $items) {{
    __typename
    ... on SubmitSuccess {{ created duplicates recommendations {{ {ITEM_FIELDS} }} }}
    ... on InvalidInput {{ field }}
    ... on Problem {{ message }}
  }}
}}
"""

PROVIDE = f"""
mutation($id: ID!, $payload: JSON!) {{
  provideData(id: $id, payload: $payload) {{
    __typename
    ... on RecommendationSuccess {{ recommendation {{ {ITEM_FIELDS} }} }}
    ... on Conflict {{ currentStatus currentVersion }}
    ... on Problem {{ message }}
  }}
}}
"""

ITEM = f"query($id: ID!) {{ recommendation(id: $id) {{ {ITEM_FIELDS} }} }}"


async def send(gql: Any, token: str, workflow: str, *items: dict[str, Any]) -> dict[str, Any]:
    data = await gql(SUBMIT, {"workflow": workflow, "items": list(items)}, token=token)
    return dict(data["submitRecommendations"])


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


async def stored_row(database: Any, rec_id: str) -> Any:
    table = metadata.tables["recommendations"]
    async with database.read_engine.connect() as connection:
        return (await connection.execute(sa.select(table).where(table.c.id == rec_id))).one()


@pytest.fixture
async def people(gql) -> dict[str, str]:
    services = gql.services
    return {
        "admin": await create_user(services, "admin"),
        "model": await create_user(services, "service"),
    }


# ---------------------------------------------------------------- batches


async def test_a_batch_is_stored_whole_and_answered_in_input_order(gql, database, people):
    workflow = await create_workflow(gql, people["admin"])
    items = [
        proposal(0.6, "B", externalId="x-1", subject="first"),
        proposal(0.95, "A", externalId="x-2", subject="second"),
        proposal(0.8, "C", externalId="x-3", subject="third"),
        proposal(0.3, "A", externalId="x-4", subject="fourth"),
    ]

    result = await send(gql, people["model"], workflow["key"], *items)

    assert result["__typename"] == "SubmitSuccess", result
    assert (result["created"], result["duplicates"]) == (4, 0)
    answered = result["recommendations"]
    assert [r["externalId"] for r in answered] == ["x-1", "x-2", "x-3", "x-4"]
    assert [r["subject"] for r in answered] == ["first", "second", "third", "fourth"]
    assert [r["proposedAction"] for r in answered] == ["B", "A", "C", "A"]
    assert [r["tier"] for r in answered] == [
        "SENIOR_REVIEW",
        "AUTO_APPROVE",
        "ANALYST_REVIEW",
        "BELOW_FLOOR",
    ]
    assert len({r["id"] for r in answered}) == 4
    assert await count(database, "recommendations") == 4
    # The two automated decisions (auto-approval, rejection below the floor) came with it.
    assert await count(database, "decisions") == 2
    for answer in answered:
        row = await stored_row(database, answer["id"])
        assert (row.external_id, row.tier, row.status) == (
            answer["externalId"],
            answer["tier"],
            answer["status"],
        )


async def test_a_repeated_external_id_in_one_batch_is_a_duplicate_of_the_first(
    gql, database, people
):
    workflow = await create_workflow(gql, people["admin"])

    result = await send(
        gql,
        people["model"],
        workflow["key"],
        proposal(0.8, externalId="same"),
        proposal(0.6, externalId="same"),
        proposal(0.8, externalId="other"),
    )

    assert result["__typename"] == "SubmitSuccess", result
    assert (result["created"], result["duplicates"]) == (2, 1)
    first, repeat, other = result["recommendations"]
    assert repeat["id"] == first["id"]
    assert repeat["confidence"] == 0.8  # the stored item, not the repeat's content
    assert other["id"] != first["id"]
    assert await count(database, "recommendations") == 2


async def test_a_repeated_external_id_in_a_later_batch_returns_the_stored_item(
    gql, database, people
):
    workflow = await create_workflow(gql, people["admin"])
    earlier = await submit_one(
        gql, people["model"], workflow["key"], confidence=0.8, externalId="e1"
    )

    result = await send(
        gql,
        people["model"],
        workflow["key"],
        proposal(0.55, "B", externalId="e2"),
        proposal(0.6, "B", externalId="e1", subject="changed my mind"),
    )

    assert result["__typename"] == "SubmitSuccess", result
    assert (result["created"], result["duplicates"]) == (1, 1)
    fresh, repeat = result["recommendations"]
    assert fresh["externalId"] == "e2"
    assert repeat["id"] == earlier["id"]
    assert (repeat["tier"], repeat["proposedAction"], repeat["subject"]) == (
        "ANALYST_REVIEW",
        "A",
        None,
    )
    assert await count(database, "recommendations") == 2


async def test_the_same_external_id_in_another_workflow_is_a_new_item(gql, database, people):
    one = await create_workflow(gql, people["admin"])
    two = await create_workflow(gql, people["admin"])

    first = await submit_one(gql, people["model"], one["key"], externalId="shared")
    second = await submit_one(gql, people["model"], two["key"], externalId="shared")

    assert first["id"] != second["id"]
    assert await count(database, "recommendations") == 2


INVALID_ITEMS = {
    "confidence above 1": (proposal(1.5), "items[1].confidence"),
    "confidence below 0": (proposal(-0.1), "items[1].confidence"),
    "unknown proposed action": (proposal(0.8, "Z"), "items[1].proposedAction"),
    "blank proposed action": (proposal(0.8, " "), "items[1].proposedAction"),
    "payload a list": ({**proposal(0.8), "payload": [1, 2]}, "items[1].payload"),
    "payload a string": ({**proposal(0.8), "payload": "amount=100"}, "items[1].payload"),
    "payload a number": ({**proposal(0.8), "payload": 7}, "items[1].payload"),
    "subject over 500 characters": (proposal(0.8, subject="s" * 501), "items[1].subject"),
    "external id over 200 characters": (
        proposal(0.8, externalId="e" * 201),
        "items[1].externalId",
    ),
    "model version over 200 characters": (
        proposal(0.8, modelVersion="m" * 201),
        "items[1].modelVersion",
    ),
    "a draft in a CLASSIFICATION workflow": (proposal(0.8, draft="Hi"), "items[1].draft"),
    # PostgreSQL cannot store U+0000 in JSON or text; text fields refuse it up front
    # (domain/validation.text), so JSON fields should too, on every backend.
    "a NUL character in the payload": (
        proposal(0.8, payload={"note": "a\u0000b"}),
        "items[1].payload",
    ),
    "a NUL character in an explanation value": (
        proposal(0.8, explanation=[{"feature": "f", "value": "x\u0000", "contribution": 0.1}]),
        "items[1].explanation.value",
    ),
    "a blank explanation feature": (
        proposal(0.8, explanation=[{"feature": " ", "contribution": 0.1}]),
        "items[1].explanation.feature",
    ),
    "too many explanation entries": (
        proposal(0.8, explanation=[{"feature": f"f{i}", "contribution": 0.0} for i in range(201)]),
        "items[1].explanation",
    ),
}


@pytest.mark.parametrize(("bad", "field"), list(INVALID_ITEMS.values()), ids=list(INVALID_ITEMS))
async def test_one_invalid_item_refuses_the_whole_batch_naming_the_item(
    gql, database, people, bad, field
):
    workflow = await create_workflow(gql, people["admin"])

    result = await send(
        gql,
        people["model"],
        workflow["key"],
        proposal(0.95, externalId="fine-1"),  # would be auto-approved with a decision
        bad,
        proposal(0.8, externalId="fine-2"),
    )

    assert result["__typename"] == "InvalidInput", result
    assert result["field"] == field
    assert "item 1" in result["message"]
    assert await count(database, "recommendations") == 0
    assert await count(database, "decisions") == 0


async def test_a_batch_over_the_size_limit_is_invalid_input(gql, database, people):
    workflow = await create_workflow(gql, people["admin"])

    result = await send(gql, people["model"], workflow["key"], *[proposal(0.8)] * 1001)

    assert result["__typename"] == "InvalidInput", result
    assert result["field"] == "items"
    assert await count(database, "recommendations") == 0


async def test_an_admin_may_submit_too(gql, people):
    workflow = await create_workflow(gql, people["admin"])

    item = await submit_one(gql, people["admin"], workflow["key"], confidence=0.8)

    assert (item["tier"], item["status"]) == ("ANALYST_REVIEW", "PENDING")


async def test_an_empty_batch_is_invalid_input(gql, database, people):
    workflow = await create_workflow(gql, people["admin"])

    result = await send(gql, people["model"], workflow["key"])

    assert result["__typename"] == "InvalidInput", result
    assert result["field"] == "items"
    assert await count(database, "recommendations") == 0


async def test_submitting_to_an_unknown_workflow_is_not_found(gql, database, people):
    result = await send(gql, people["model"], "no-such-workflow", proposal(0.8))

    assert result["__typename"] == "NotFound", result
    assert await count(database, "recommendations") == 0


# ---------------------------------------------------------------- the ladder


async def test_confidence_routes_each_item_to_its_tier(gql, database, people):
    workflow = await create_workflow(gql, people["admin"])
    now = datetime.now(UTC)

    result = await send(
        gql,
        people["model"],
        workflow["key"],
        proposal(0.95),
        proposal(0.8),
        proposal(0.6),
        proposal(0.3),
    )

    assert result["__typename"] == "SubmitSuccess", result
    auto, analyst, senior, below = result["recommendations"]

    assert (auto["tier"], auto["status"]) == ("AUTO_APPROVE", "APPROVED")
    assert auto["finalAction"] == "A"
    assert auto["slaDueAt"] is None
    assert auto["decidedAt"] is not None
    assert [(d["verdict"], d["automated"], d["actor"]) for d in auto["decisions"]] == [
        ("APPROVE", True, None)
    ]
    assert auto["decisions"][0]["policyVersion"] == 1

    assert (analyst["tier"], analyst["status"]) == ("ANALYST_REVIEW", "PENDING")
    assert about(analyst["slaDueAt"], now + timedelta(hours=4))
    assert analyst["decisions"] == []
    assert analyst["finalAction"] is None

    assert (senior["tier"], senior["status"]) == ("SENIOR_REVIEW", "PENDING")
    assert about(senior["slaDueAt"], now + timedelta(hours=24))
    assert senior["decisions"] == []

    assert (below["tier"], below["status"]) == ("BELOW_FLOOR", "REJECTED")
    assert below["finalAction"] is None
    assert below["slaDueAt"] is None
    assert [(d["verdict"], d["automated"]) for d in below["decisions"]] == [("REJECT", True)]

    decisions = metadata.tables["decisions"]
    async with database.read_engine.connect() as connection:
        stored = {
            row.recommendation_id: (row.verdict, row.automated, row.actor_id)
            for row in await connection.execute(sa.select(decisions))
        }
    assert stored == {
        auto["id"]: ("APPROVE", True, None),
        below["id"]: ("REJECT", True, None),
    }


@pytest.mark.parametrize(
    ("confidence", "tier"),
    [
        (1.0, "AUTO_APPROVE"),
        (0.90, "AUTO_APPROVE"),
        (0.8999, "ANALYST_REVIEW"),
        (0.70, "ANALYST_REVIEW"),
        (0.6999, "SENIOR_REVIEW"),
        (0.50, "SENIOR_REVIEW"),
        (0.4999, "BELOW_FLOOR"),
        (0.0, "BELOW_FLOOR"),
    ],
)
async def test_a_threshold_itself_belongs_to_the_tier_above_it(gql, people, confidence, tier):
    workflow = await create_workflow(gql, people["admin"])

    item = await submit_one(gql, people["model"], workflow["key"], confidence=confidence)

    assert item["tier"] == tier


async def test_below_the_floor_with_request_more_data_waits_for_data_then_goes_to_a_senior(
    gql, database, people
):
    workflow = await create_workflow(
        gql, people["admin"], policy={"belowFloor": "REQUEST_MORE_DATA"}
    )
    submitted = await send(
        gql,
        people["model"],
        workflow["key"],
        proposal(0.3, payload={"amount": 100, "region": "north"}),
    )
    assert submitted["__typename"] == "SubmitSuccess", submitted
    item = submitted["recommendations"][0]
    assert (item["tier"], item["status"]) == ("BELOW_FLOOR", "NEEDS_DATA")
    assert item["finalAction"] is None
    assert [(d["verdict"], d["automated"]) for d in item["decisions"]] == [
        ("REQUEST_MORE_DATA", True)
    ]

    now = datetime.now(UTC)
    provided = (
        await gql(
            PROVIDE,
            {"id": item["id"], "payload": {"income": 52000, "region": "south"}},
            token=people["model"],
        )
    )["provideData"]

    assert provided["__typename"] == "RecommendationSuccess", provided
    after = provided["recommendation"]
    assert after["payload"] == {"amount": 100, "region": "south", "income": 52000}
    assert (after["tier"], after["status"]) == ("SENIOR_REVIEW", "PENDING")
    assert about(after["slaDueAt"], now + timedelta(hours=24))
    assert after["version"] == item["version"] + 1
    row = await stored_row(database, item["id"])
    assert (row.tier, row.status) == ("SENIOR_REVIEW", "PENDING")
    assert row.payload == {"amount": 100, "region": "south", "income": 52000}


async def test_providing_data_for_an_item_that_is_not_waiting_for_it_is_a_conflict(
    gql, database, people
):
    workflow = await create_workflow(gql, people["admin"])
    item = await submit_one(gql, people["model"], workflow["key"], confidence=0.8)

    result = (
        await gql(PROVIDE, {"id": item["id"], "payload": {"more": 1}}, token=people["model"])
    )["provideData"]

    assert result["__typename"] == "Conflict", result
    assert result["currentStatus"] == "PENDING"
    row = await stored_row(database, item["id"])
    assert row.payload == {"amount": 100}
    assert row.version == item["version"]


async def test_providing_data_that_is_not_an_object_is_invalid_input(gql, database, people):
    workflow = await create_workflow(
        gql, people["admin"], policy={"belowFloor": "REQUEST_MORE_DATA"}
    )
    item = await submit_one(gql, people["model"], workflow["key"], confidence=0.3)

    result = (await gql(PROVIDE, {"id": item["id"], "payload": [1]}, token=people["model"]))[
        "provideData"
    ]

    assert result["__typename"] == "InvalidInput", result
    row = await stored_row(database, item["id"])
    assert (row.status, row.payload) == ("NEEDS_DATA", {"amount": 100})


async def test_providing_data_with_a_nul_character_is_invalid_input_on_every_backend(
    gql, database, people
):
    workflow = await create_workflow(
        gql, people["admin"], policy={"belowFloor": "REQUEST_MORE_DATA"}
    )
    item = await submit_one(gql, people["model"], workflow["key"], confidence=0.3)

    result = (
        await gql(PROVIDE, {"id": item["id"], "payload": {"x": "a\u0000b"}}, token=people["model"])
    )["provideData"]

    assert result["__typename"] == "InvalidInput", result
    row = await stored_row(database, item["id"])
    assert (row.status, row.payload) == ("NEEDS_DATA", {"amount": 100})


async def test_providing_data_for_an_unknown_item_is_not_found(gql, people):
    result = (
        await gql(PROVIDE, {"id": "rec_missing", "payload": {"more": 1}}, token=people["model"])
    )["provideData"]

    assert result["__typename"] == "NotFound", result


async def test_high_stakes_are_never_auto_approved(gql, database, people):
    workflow = await create_workflow(gql, people["admin"], policy={"highStakesAt": 1000})

    result = await send(
        gql,
        people["model"],
        workflow["key"],
        proposal(0.99, stakes=5000),
        proposal(0.99, stakes=1000),
        proposal(0.99, stakes=999),
        proposal(0.99),
    )

    assert result["__typename"] == "SubmitSuccess", result
    high, at_threshold, below_threshold, no_stakes = result["recommendations"]
    for item in (high, at_threshold):
        assert (item["tier"], item["status"]) == ("ANALYST_REVIEW", "PENDING")
        assert item["decisions"] == []
        assert item["finalAction"] is None
    assert high["stakes"] == 5000
    assert (below_threshold["tier"], below_threshold["status"]) == ("AUTO_APPROVE", "APPROVED")
    assert (no_stakes["tier"], no_stakes["status"]) == ("AUTO_APPROVE", "APPROVED")
    assert await count(database, "decisions") == 2


async def test_audit_sampling_sends_would_be_auto_approvals_to_an_analyst(gql, database, people):
    always = await create_workflow(gql, people["admin"], policy={"auditSampleRate": 1.0})

    result = await send(gql, people["model"], always["key"], proposal(0.97), proposal(0.8))

    assert result["__typename"] == "SubmitSuccess", result
    sampled, ordinary = result["recommendations"]
    assert (sampled["tier"], sampled["status"], sampled["sampledForAudit"]) == (
        "ANALYST_REVIEW",
        "PENDING",
        True,
    )
    assert sampled["decisions"] == []
    assert ordinary["sampledForAudit"] is False
    assert (await stored_row(database, sampled["id"])).sampled_for_audit is True


# ---------------------------------------------------------------- drafts and explanations


async def test_a_draft_workflow_needs_a_draft_and_returns_it(gql, database, people):
    workflow = await create_workflow(
        gql, people["admin"], kind="DRAFT", reviewerRole="EDITOR", scoreLabel="open rate"
    )

    missing = await send(gql, people["model"], workflow["key"], proposal(0.8))
    assert missing["__typename"] == "InvalidInput", missing
    assert missing["field"] == "items[0].draft"
    assert await count(database, "recommendations") == 0

    result = await send(
        gql,
        people["model"],
        workflow["key"],
        proposal(0.8, draft="Dear customer, your loan is ready.", predictedScore=0.22),
    )

    assert result["__typename"] == "SubmitSuccess", result
    draft = result["recommendations"][0]["draft"]
    assert draft == {
        "original": "Dear customer, your loan is ready.",
        "content": "Dear customer, your loan is ready.",
        "originalPredictedScore": 0.22,
        "predictedScore": 0.22,
    }
    read = (await gql(ITEM, {"id": result["recommendations"][0]["id"]}, token=people["admin"]))[
        "recommendation"
    ]
    assert read["draft"] == draft


async def test_an_explanation_and_the_optional_fields_round_trip(gql, people):
    workflow = await create_workflow(gql, people["admin"])
    explanation = [
        {"feature": "company_age", "value": 1.2, "contribution": 0.41},
        {"feature": "industry", "value": "healthcare", "contribution": -0.3},
        {"feature": "flags", "value": {"late": True, "count": 2}, "contribution": 0.05},
        {"feature": "no_value", "value": None, "contribution": 0.0},
    ]

    item = await submit_one(
        gql,
        people["model"],
        workflow["key"],
        confidence=0.8,
        explanation=explanation,
        subject="Acme Ltd",
        stakes=2500.5,
        modelVersion="lgbm-7",
        payload={"amount": 100, "nested": {"list": [1, "two", None]}},
    )
    read = (await gql(ITEM, {"id": item["id"]}, token=people["admin"]))["recommendation"]

    assert read["explanation"] == explanation
    assert read["subject"] == "Acme Ltd"
    assert read["stakes"] == 2500.5
    assert read["modelVersion"] == "lgbm-7"
    assert read["payload"] == {"amount": 100, "nested": {"list": [1, "two", None]}}
    assert read["draft"] is None
