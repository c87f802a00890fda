"""undo(decisionId): a reviewer takes back their own decision within the policy's undoSeconds."""

from __future__ import annotations

import asyncio
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from store.audit_log import verify_log
from store.learning import LearningReads
from store.queries import Reads
from store.tables import decisions_t, deliveries_t, events_t
from tests.api.test_decisions import (
    APPROVE,
    CLAIM_NEXT,
    EDIT,
    FLAG,
    OVERRIDE,
    UPDATE_POLICY,
    open_desk,
    stored,
)

UNDO = """
mutation($id: ID!) {
  undo(decisionId: $id) {
    __typename
    ... on DecisionSuccess {
      decision { id verdict undone finalAction actor { name } }
      recommendation { id status version finalAction claim { reviewer { name } } draft { content } }
    }
    ... on Conflict { message currentStatus }
    ... on InvalidInput { message field }
    ... on Problem { message }
  }
}"""
HISTORY = """
query($id: ID!) {
  recommendation(id: $id) { status finalAction decisions { id verdict undone } }
}"""
OVERRIDES = """
query($wf: String!) { overrides(workflow: $wf) { totalCount edges { node { id } } } }"""
CREATE_WEBHOOK = """
mutation($wf: String!) {
  createWebhook(workflow: $wf, url: "https://svc.example/hook", events: [DECIDED, ADDED]) {
    __typename
  }
}"""


async def _decided(desk: Any, query: str, token: str, **variables: Any) -> str:
    result = await desk.run(query, token, **variables)
    assert result["__typename"] == "DecisionSuccess", result
    return str(result["decision"]["id"])


async def _deliveries(database: Any, decision_id: str) -> list[Any]:
    async with database.read_engine.connect() as connection:
        caused = sa.select(events_t.c.id).where(events_t.c.decision_id == decision_id)
        return list(
            await connection.execute(
                sa.select(deliveries_t).where(deliveries_t.c.event_id.in_(caused))
            )
        )


async def test_an_undo_in_the_window_puts_the_item_back_and_logs_an_undo(gql, database):
    desk = await open_desk(gql)
    item = await desk.item()
    decision_id = await _decided(desk, APPROVE, desk.ana, id=item["id"])

    result = await desk.run(UNDO, desk.ana, id=decision_id)

    assert result["__typename"] == "DecisionSuccess", result
    assert result["decision"]["verdict"] == "UNDO"
    assert result["decision"]["actor"]["name"] == "ana"
    assert result["recommendation"]["status"] == "PENDING"
    assert result["recommendation"]["claim"] is None
    assert result["recommendation"]["finalAction"] is None
    row = await stored(database, item["id"])
    assert (row.status, row.final_action, row.decided_at) == ("PENDING", None, None)
    history = (await gql(HISTORY, {"id": item["id"]}, token=desk.admin))["recommendation"]
    assert [(d["verdict"], d["undone"]) for d in history["decisions"]] == [
        ("APPROVE", True),
        ("UNDO", False),
    ]
    async with database.read_engine.connect() as connection:
        reverts = (
            await connection.execute(
                sa.select(decisions_t.c.reverts_id).where(decisions_t.c.verdict == "UNDO")
            )
        ).scalar_one()
    assert reverts == decision_id
    assert all(report.problem is None for report in await verify_log(database))
    # It is back in the queue: the next reviewer gets it.
    claimed = await desk.run(CLAIM_NEXT, desk.bob, wf=desk.key)
    assert claimed["__typename"] == "ClaimSuccess", claimed
    assert claimed["recommendation"]["id"] == item["id"]


async def test_undoing_twice_or_an_earlier_decision_is_a_conflict(gql, database):
    desk = await open_desk(gql)
    item = await desk.item()
    flag_id = await _decided(desk, FLAG, desk.ana, id=item["id"], note="later")
    approve_id = await _decided(desk, APPROVE, desk.ana, id=item["id"])

    earlier = await desk.run(UNDO, desk.ana, id=flag_id)
    first = await desk.run(UNDO, desk.ana, id=approve_id)
    again = await desk.run(UNDO, desk.ana, id=approve_id)

    assert earlier["__typename"] == "Conflict", earlier
    assert "latest" in earlier["message"]
    assert first["__typename"] == "DecisionSuccess", first
    assert first["recommendation"]["status"] == "FLAGGED"  # the earlier flag still stands
    assert again["__typename"] == "Conflict", again
    assert "already undone" in again["message"]


async def test_undoing_a_flag_returns_the_item_to_pending(gql, database):
    desk = await open_desk(gql)
    item = await desk.item()
    flag_id = await _decided(desk, FLAG, desk.ana, id=item["id"], note="ask legal")

    result = await desk.run(UNDO, desk.ana, id=flag_id)

    assert result["__typename"] == "DecisionSuccess", result
    assert result["recommendation"]["status"] == "PENDING"
    row = await stored(database, item["id"])
    assert (row.status, row.flagged) == ("PENDING", False)


async def test_undoing_an_edit_restores_the_previous_draft(gql, database):
    desk = await open_desk(gql, kind="DRAFT")
    item = await desk.item(draft="Dear customer")
    edit_id = await _decided(desk, EDIT, desk.ana, id=item["id"], content="Dear Ms Smith")

    result = await desk.run(UNDO, desk.ana, id=edit_id)

    assert result["__typename"] == "DecisionSuccess", result
    assert result["recommendation"]["status"] == "PENDING"
    assert result["recommendation"]["draft"]["content"] == "Dear customer"


async def test_an_undo_after_the_window_is_refused(gql, database):
    desk = await open_desk(gql)
    policy = await desk.run(UPDATE_POLICY, desk.admin, wf=desk.key, input={"undoSeconds": 1})
    assert policy["__typename"] == "PolicySuccess", policy
    item = await desk.item()
    decision_id = await _decided(desk, APPROVE, desk.ana, id=item["id"])
    await asyncio.sleep(1.2)

    result = await desk.run(UNDO, desk.ana, id=decision_id)

    assert result["__typename"] == "Conflict", result
    assert "undo window of 1 s closed" in result["message"]
    assert (await stored(database, item["id"])).status == "APPROVED"


async def test_only_the_decider_or_an_admin_may_undo(gql, database):
    desk = await open_desk(gql)
    item = await desk.item()
    decision_id = await _decided(desk, APPROVE, desk.ana, id=item["id"])

    by_bob = await desk.run(UNDO, desk.bob, id=decision_id)
    by_admin = await desk.run(UNDO, desk.admin, id=decision_id)

    assert by_bob["__typename"] == "Forbidden", by_bob
    assert "your own" in by_bob["message"]
    assert by_admin["__typename"] == "DecisionSuccess", by_admin


async def test_automated_decisions_and_unknown_ids_are_not_undone(gql, database):
    desk = await open_desk(gql)
    auto = await desk.item(confidence=0.95)
    history = (await gql(HISTORY, {"id": auto["id"]}, token=desk.admin))["recommendation"]

    automated = await desk.run(UNDO, desk.admin, id=history["decisions"][0]["id"])
    unknown = await desk.run(UNDO, desk.ana, id="dec_nope")

    assert automated["__typename"] == "InvalidInput", automated
    assert automated["field"] == "decisionId"
    assert unknown["__typename"] == "NotFound", unknown


async def test_an_undo_after_a_webhook_delivered_the_decision_is_refused(gql, database):
    desk = await open_desk(gql)
    await gql(CREATE_WEBHOOK, {"wf": desk.key}, token=desk.admin)
    item = await desk.item()
    decision_id = await _decided(desk, APPROVE, desk.ana, id=item["id"])
    deliveries = await _deliveries(database, decision_id)
    assert len(deliveries) == 1
    async with database.write_engine.begin() as connection:
        await connection.execute(
            deliveries_t.update()
            .where(deliveries_t.c.id == deliveries[0].id)
            # A delivery attempt may be in flight: moving the attempt count makes its
            # compare-and-swap fail, as a real concurrent recording would.
            .values(
                status="DELIVERED",
                delivered_at=sa.func.now(),
                attempts=deliveries_t.c.attempts + 1,
            )
        )

    result = await desk.run(UNDO, desk.ana, id=decision_id)

    assert result["__typename"] == "Conflict", result
    assert "a webhook already delivered it" in result["message"]
    assert (await stored(database, item["id"])).status == "APPROVED"


async def test_an_undo_cancels_the_pending_webhook_deliveries(gql, database):
    desk = await open_desk(gql)
    await gql(CREATE_WEBHOOK, {"wf": desk.key}, token=desk.admin)
    item = await desk.item()
    decision_id = await _decided(desk, APPROVE, desk.ana, id=item["id"])

    result = await desk.run(UNDO, desk.ana, id=decision_id)

    assert result["__typename"] == "DecisionSuccess", result
    (delivery,) = await _deliveries(database, decision_id)
    assert (delivery.status, delivery.last_error) == ("FAILED", "undone before delivery")
    # The item coming back is itself an event (ADDED) that services hear about.
    back = await _deliveries(database, result["decision"]["id"])
    assert [d.event_kind for d in back] == ["ADDED"]


async def test_an_undone_override_leaves_the_overrides_and_the_learning_data(gql, database):
    desk = await open_desk(gql)
    item = await desk.item()
    kept = await desk.item()
    decision_id = await _decided(
        desk, OVERRIDE, desk.ana, id=item["id"], action="B", reason="wrong customer segment"
    )
    await _decided(desk, OVERRIDE, desk.ana, id=kept["id"], action="C", reason="fraud signal")
    before = (await gql(OVERRIDES, {"wf": desk.key}, token=desk.admin))["overrides"]
    assert before["totalCount"] == 2

    result = await desk.run(UNDO, desk.ana, id=decision_id)

    assert result["__typename"] == "DecisionSuccess", result
    after = (await gql(OVERRIDES, {"wf": desk.key}, token=desk.admin))["overrides"]
    assert after["totalCount"] == 1
    async with database.read_engine.connect() as connection, AsyncSession(bind=connection) as s:
        workflow = await Reads(s).workflow_by_key(desk.key)
        assert workflow is not None
        learning = LearningReads(s)
        rows = await learning.learning_rows(workflow.id)
        mined = await learning.overrides_since(workflow.id, workflow.created_at)
    assert [(r.proposed_action, r.final_action) for r in rows] == [("A", "C")]
    assert [r.chosen_action for r in mined] == ["C"]
