"""The policy's maxDailyDecisionsPerReviewer (load cap) and canaryRate (known-wrong checks)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from store.learning import LearningReads
from store.queries import Reads
from store.tables import deliveries_t, events_t, recs_t
from tests.api.test_decisions import APPROVE, CLAIM_NEXT, OVERRIDE, REJECT, UPDATE_POLICY, open_desk

CLAIM_NEXT_FULL = """
mutation($wf: String!) {
  claimNext(workflow: $wf) {
    __typename
    ... on ClaimSuccess {
      recommendation { id status payload proposedAction confidence tier externalId }
      claim { reviewer { name } }
    }
    ... on Problem { message }
  }
}"""
CREATE_WEBHOOK = """
mutation($wf: String!) {
  createWebhook(workflow: $wf, url: "https://svc.example/hook",
                events: [ADDED, CLAIMED, RELEASED, DECIDED, FLAGGED, ESCALATED]) { __typename }
}"""
STATS = """
query($wf: String!) {
  reviewerStats(workflow: $wf) { reviewer { name } decisions auditAccuracy canariesMissed }
  divergence(workflow: $wf, window: WEEK) {
    decisions overrideRate agreementRate byAction { proposedAction decisions }
  }
  queue(workflow: $wf, statuses: [PENDING, CLAIMED]) { totalCount edges { node { id } } }
  workflow(key: $wf) { queueCounts { tier status count } }
}"""


async def _policy(desk: Any, **changes: Any) -> None:
    result = await desk.run(UPDATE_POLICY, desk.admin, wf=desk.key, input=changes)
    assert result["__typename"] == "PolicySuccess", result


async def _claim_and(desk: Any, token: str, query: str, **variables: Any) -> dict[str, Any]:
    claimed = await desk.run(CLAIM_NEXT, token, wf=desk.key)
    assert claimed["__typename"] == "ClaimSuccess", claimed
    result = await desk.run(query, token, id=claimed["recommendation"]["id"], **variables)
    assert result["__typename"] == "DecisionSuccess", result
    return result


# ------------------------------------------------------------------ load cap


async def test_past_the_daily_cap_claim_next_reads_empty_for_that_reviewer_only(gql, database):
    desk = await open_desk(gql)
    await _policy(desk, maxDailyDecisionsPerReviewer=2)
    for _ in range(4):
        await desk.item()
    await _claim_and(desk, desk.ana, APPROVE)
    await _claim_and(desk, desk.ana, REJECT)

    capped = await desk.run(CLAIM_NEXT, desk.ana, wf=desk.key)
    other = await desk.run(CLAIM_NEXT, desk.bob, wf=desk.key)

    assert capped["__typename"] == "QueueEmpty", capped
    assert "daily limit of 2" in capped["message"]
    assert other["__typename"] == "ClaimSuccess", other


async def test_an_undone_decision_does_not_count_toward_the_cap(gql, database):
    desk = await open_desk(gql)
    await _policy(desk, maxDailyDecisionsPerReviewer=1)
    await desk.item()
    decided = await _claim_and(desk, desk.ana, APPROVE)
    assert (await desk.run(CLAIM_NEXT, desk.ana, wf=desk.key))["__typename"] == "QueueEmpty"

    undo = "mutation($id: ID!) { undo(decisionId: $id) { __typename } }"
    undone = await desk.run(undo, desk.ana, id=decided["decision"]["id"])

    assert undone["__typename"] == "DecisionSuccess", undone
    assert (await desk.run(CLAIM_NEXT, desk.ana, wf=desk.key))["__typename"] == "ClaimSuccess"


# ------------------------------------------------------------------ canaries


async def _with_past_override(desk: Any) -> dict[str, Any]:
    """An item bob overrode from A to B: the source of canaries."""
    source = await desk.item(payload={"amount": 7300, "industry": "mining"}, confidence=0.8)
    claimed = await desk.run(CLAIM_NEXT, desk.bob, wf=desk.key)
    assert claimed["recommendation"]["id"] == source["id"]
    result = await desk.run(
        OVERRIDE, desk.bob, id=source["id"], action="B", reason="mining is out of appetite"
    )
    assert result["__typename"] == "DecisionSuccess", result
    return source


async def _learning(database: Any, key: str) -> tuple[list[Any], list[Any], list[Any]]:
    async with database.read_engine.connect() as connection, AsyncSession(bind=connection) as s:
        workflow = await Reads(s).workflow_by_key(key)
        assert workflow is not None
        learning = LearningReads(s)
        return (
            await learning.learning_rows(workflow.id),
            await learning.overrides_since(workflow.id, workflow.created_at),
            await learning.decided_since(workflow.id, workflow.created_at, 100),
        )


async def test_a_canary_looks_like_an_item_and_stays_out_of_events_learning_and_rates(
    gql, database
):
    desk = await open_desk(gql)
    source = await _with_past_override(desk)
    await gql(CREATE_WEBHOOK, {"wf": desk.key}, token=desk.admin)
    await _policy(desk, canaryRate=1.0)
    real = await desk.item(confidence=0.75)

    handed = await desk.run(CLAIM_NEXT_FULL, desk.ana, wf=desk.key)

    assert handed["__typename"] == "ClaimSuccess", handed
    canary = handed["recommendation"]
    assert canary["id"] not in (source["id"], real["id"])
    assert canary["status"] == "CLAIMED"
    assert canary["payload"] == {"amount": 7300, "industry": "mining"}
    assert (canary["proposedAction"], canary["confidence"]) == ("A", 0.8)
    assert set(canary) == {
        "id",
        "status",
        "payload",
        "proposedAction",
        "confidence",
        "tier",
        "externalId",
    }
    assert handed["claim"]["reviewer"]["name"] == "ana"
    seen = await gql(STATS, {"wf": desk.key}, token=desk.bob)
    listed = [e["node"]["id"] for e in seen["queue"]["edges"]]
    assert listed == [real["id"]]  # nobody else sees it queued
    counts = seen["workflow"]["queueCounts"]
    assert [(c["status"], c["count"]) for c in counts] == [("PENDING", 1)]

    decided = await desk.run(APPROVE, desk.ana, id=canary["id"])

    assert decided["__typename"] == "DecisionSuccess", decided
    async with database.read_engine.connect() as connection:
        stored = (
            await connection.execute(sa.select(recs_t).where(recs_t.c.id == canary["id"]))
        ).one()
        events = list(
            await connection.execute(
                sa.select(events_t.c.kind).where(events_t.c.recommendation_id == canary["id"])
            )
        )
        deliveries = list(
            await connection.execute(
                sa.select(deliveries_t.c.id)
                .join(events_t, events_t.c.id == deliveries_t.c.event_id)
                .where(events_t.c.recommendation_id == canary["id"])
            )
        )
    assert (stored.canary, stored.canary_of, stored.status) == (True, source["id"], "APPROVED")
    assert events == [] and deliveries == []
    rows, mined, payloads = await _learning(database, desk.key)
    assert [(r.proposed_action, r.final_action) for r in rows] == [("A", "B")]
    assert [r.id for r in mined] and all(r.chosen_action == "B" for r in mined)
    assert len(mined) == 1 and payloads == []
    stats = await gql(STATS, {"wf": desk.key}, token=desk.admin)
    assert stats["divergence"]["decisions"] == 1  # bob's override only
    assert stats["divergence"]["overrideRate"] == 1.0
    by_name = {s["reviewer"]["name"]: s for s in stats["reviewerStats"]}
    assert by_name["ana"]["auditAccuracy"] == 0.0  # approving the known-wrong proposal
    assert by_name["ana"]["canariesMissed"] == 1
    assert by_name["ana"]["decisions"] == 0
    assert by_name["bob"]["canariesMissed"] == 0
    # The real item still waits, untouched.
    assert real["id"] in [e["node"]["id"] for e in stats["queue"]["edges"]]


async def test_overriding_a_canary_to_the_right_action_counts_as_caught(gql, database):
    desk = await open_desk(gql)
    await _with_past_override(desk)
    await _policy(desk, canaryRate=1.0)
    await desk.item(confidence=0.75)

    handed = await desk.run(CLAIM_NEXT_FULL, desk.ana, wf=desk.key)
    decided = await desk.run(
        OVERRIDE, desk.ana, id=handed["recommendation"]["id"], action="B", reason="mining again"
    )

    assert decided["__typename"] == "DecisionSuccess", decided
    stats = await gql(STATS, {"wf": desk.key}, token=desk.admin)
    by_name = {s["reviewer"]["name"]: s for s in stats["reviewerStats"]}
    assert by_name["ana"]["auditAccuracy"] == 1.0
    assert by_name["ana"]["canariesMissed"] == 0
    overrides = await gql(
        "query($wf: String!) { overrides(workflow: $wf) { totalCount } }",
        {"wf": desk.key},
        token=desk.admin,
    )
    assert overrides["overrides"]["totalCount"] == 1  # bob's; the canary's is not a correction


async def test_no_canary_without_a_past_override_or_without_real_work(gql, database):
    desk = await open_desk(gql)
    await _policy(desk, canaryRate=1.0)
    real = await desk.item()

    first = await desk.run(CLAIM_NEXT_FULL, desk.ana, wf=desk.key)

    assert first["__typename"] == "ClaimSuccess", first
    assert first["recommendation"]["id"] == real["id"]
    empty = await desk.run(CLAIM_NEXT_FULL, desk.bob, wf=desk.key)
    assert empty["__typename"] == "QueueEmpty", empty
