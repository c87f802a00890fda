"""Deciding items through GraphQL: every verdict, leases, versions, claimNext and high stakes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import sqlalchemy as sa

from api.app import create_app
from store.tables import DecisionRow, DraftRevisionRow, RecommendationRow
from tests.conftest import GraphQLClient, make_settings
from tests.factories import create_user, create_workflow, submit, submit_one

recs = RecommendationRow.__table__
decisions_t = DecisionRow.__table__
revisions_t = DraftRevisionRow.__table__

RESULT = """
  __typename
  ... on DecisionSuccess {
    decision { id verdict finalAction reason dwellMs editedContent actor { name } }
    recommendation { id status version finalAction claim { reviewer { name } } }
  }
  ... on ConfirmationRequired { message token expiresAt }
  ... on Conflict { message currentStatus currentVersion }
  ... on InvalidInput { message field }
  ... on Problem { message }
"""

APPROVE = f"""
mutation($id: ID!, $v: Int, $token: String) {{
  approve(id: $id, expectedVersion: $v, confirmationToken: $token) {{ {RESULT} }}
}}"""
REJECT = f"""
mutation($id: ID!, $reason: String, $token: String) {{
  reject(id: $id, reason: $reason, confirmationToken: $token) {{ {RESULT} }}
}}"""
FLAG = f"mutation($id: ID!, $note: String!) {{ flag(id: $id, note: $note) {{ {RESULT} }} }}"
OVERRIDE = f"""
mutation($id: ID!, $action: String!, $reason: String!, $token: String) {{
  override(id: $id, action: $action, reason: $reason, confirmationToken: $token) {{ {RESULT} }}
}}"""
EDIT = f"""
mutation($id: ID!, $content: String!) {{ edit(id: $id, content: $content) {{ {RESULT} }} }}"""

CLAIM_RESULT = """
  __typename
  ... on ClaimSuccess {
    recommendation { id status version } claim { reviewer { name } expiresAt }
  }
  ... on Conflict { message currentStatus currentVersion }
  ... on Problem { message }
"""
CLAIM = f"mutation($id: ID!) {{ claim(id: $id) {{ {CLAIM_RESULT} }} }}"
CLAIM_NEXT = f"mutation($wf: String!) {{ claimNext(workflow: $wf) {{ {CLAIM_RESULT} }} }}"
RELEASE = """
mutation($id: ID!) {
  release(id: $id) {
    __typename
    ... on RecommendationSuccess { recommendation { id status version claim { expiresAt } } }
    ... on Conflict { message currentStatus }
    ... on Problem { message }
  }
}"""
ITEM = """
query($id: ID!) {
  recommendation(id: $id) {
    id status version finalAction claim { reviewer { name } }
    decisions { verdict reason finalAction actor { name } }
  }
}"""
UPDATE_POLICY = """
mutation($wf: String!, $input: EscalationPolicyInput!) {
  updateEscalationPolicy(workflow: $wf, input: $input) {
    __typename
    ... on PolicySuccess { policy { version highStakesAt } }
    ... on Problem { message }
  }
}"""


# ------------------------------------------------------------------ helpers


@dataclass
class Desk:
    """A workflow with its admin, the model that feeds it, and two reviewers."""

    gql: Any
    admin: str
    model: str
    key: str
    ana: str
    bob: str

    async def item(self, **fields: Any) -> dict[str, Any]:
        return await submit_one(self.gql, self.model, self.key, **fields)

    async def run(self, query: str, as_user: str, **variables: Any) -> dict[str, Any]:
        """The mutation's (or query's) single result, run as the user with this token."""
        data = await self.gql(query, variables, token=as_user)
        return dict(next(iter(data.values())))

    async def read(self, rec_id: str, token: str | None = None) -> dict[str, Any]:
        data = await self.gql(ITEM, {"id": rec_id}, token=token or self.admin)
        return dict(data["recommendation"])


async def open_desk(gql: Any, reviewer: str = "analyst", **workflow_fields: Any) -> Desk:
    services = gql.services
    admin = await create_user(services, "admin", name="admin")
    model = await create_user(services, "service", name="model")
    ana = await create_user(services, reviewer, name="ana")
    bob = await create_user(services, reviewer, name="bob")
    workflow = await create_workflow(gql, admin, **workflow_fields)
    return Desk(gql, admin, model, workflow["key"], ana, bob)


@asynccontextmanager
async def client_with(database_url: str, **overrides: Any) -> AsyncIterator[GraphQLClient]:
    """A GraphQL client on an app built with these settings overrides."""
    app = create_app(make_settings(database_url, **overrides))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield GraphQLClient(http, app.state.services)


async def stored(database: Any, rec_id: str) -> Any:
    async with database.read_engine.connect() as connection:
        return (await connection.execute(sa.select(recs).where(recs.c.id == rec_id))).one()


async def stored_verdicts(database: Any, rec_id: str) -> list[str]:
    async with database.read_engine.connect() as connection:
        rows = await connection.execute(
            sa.select(decisions_t.c.verdict)
            .where(decisions_t.c.recommendation_id == rec_id)
            .order_by(decisions_t.c.seq)
        )
        return [row.verdict for row in rows]


# ------------------------------------------------------------------ reject


async def test_a_reject_with_a_reason_discards_the_item_and_keeps_the_reason(gql, database):
    desk = await open_desk(gql)
    item = await desk.item()

    result = await desk.run(REJECT, desk.ana, id=item["id"], reason="  duplicate invoice  ")

    assert result["__typename"] == "DecisionSuccess", result
    assert result["decision"]["verdict"] == "REJECT"
    assert result["decision"]["reason"] == "duplicate invoice"
    assert result["decision"]["finalAction"] is None
    assert result["recommendation"]["status"] == "REJECTED"
    row = await stored(database, item["id"])
    assert (row.status, row.final_action) == ("REJECTED", None)
    assert row.decided_at is not None
    assert await stored_verdicts(database, item["id"]) == ["REJECT"]


async def test_a_reject_without_a_reason_is_accepted(gql, database):
    desk = await open_desk(gql)
    item = await desk.item()

    result = await desk.run(REJECT, desk.ana, id=item["id"])

    assert result["__typename"] == "DecisionSuccess", result
    assert result["decision"]["reason"] is None
    assert (await stored(database, item["id"])).status == "REJECTED"


# ------------------------------------------------------------------ flag


async def test_a_flag_needs_a_note_that_is_not_blank(gql, database):
    desk = await open_desk(gql)
    item = await desk.item()

    result = await desk.run(FLAG, desk.ana, id=item["id"], note="   ")

    assert result["__typename"] == "InvalidInput", result
    assert result["field"] == "note"
    row = await stored(database, item["id"])
    assert (row.status, row.version) == ("PENDING", item["version"])
    assert await stored_verdicts(database, item["id"]) == []


async def test_a_flagged_item_is_parked_listed_as_flagged_and_still_decidable(gql, database):
    desk = await open_desk(gql)
    item = await desk.item()

    flagged = await desk.run(FLAG, desk.ana, id=item["id"], note="ask the customer")
    assert flagged["__typename"] == "DecisionSuccess", flagged
    assert flagged["decision"]["verdict"] == "FLAG"
    assert flagged["decision"]["reason"] == "ask the customer"
    assert flagged["recommendation"]["status"] == "FLAGGED"
    assert (await stored(database, item["id"])).status == "FLAGGED"

    queue = await gql(
        """query($wf: String!) {
             queue(workflow: $wf, statuses: [FLAGGED]) { totalCount edges { node { id status } } }
           }""",
        {"wf": desk.key},
        token=desk.ana,
    )
    assert queue["queue"]["totalCount"] == 1
    assert queue["queue"]["edges"][0]["node"] == {"id": item["id"], "status": "FLAGGED"}

    approved = await desk.run(APPROVE, desk.bob, id=item["id"])
    assert approved["__typename"] == "DecisionSuccess", approved
    assert approved["recommendation"]["status"] == "APPROVED"
    assert (await stored(database, item["id"])).status == "APPROVED"

    log = await gql(
        """query($wf: String!) { decisions(workflow: $wf) { edges { node {
             verdict reason actor { name } recommendation { id } } } } }""",
        {"wf": desk.key},
        token=desk.admin,
    )
    nodes = [edge["node"] for edge in log["decisions"]["edges"]]
    assert [(n["verdict"], n["actor"]["name"]) for n in nodes] == [
        ("FLAG", "ana"),
        ("APPROVE", "bob"),
    ]
    assert nodes[0]["reason"] == "ask the customer"
    assert {n["recommendation"]["id"] for n in nodes} == {item["id"]}


# ------------------------------------------------------------------ override


async def test_an_override_needs_a_reason_that_is_not_blank(gql, database):
    desk = await open_desk(gql, reviewer="senior")
    item = await desk.item()

    result = await desk.run(OVERRIDE, desk.ana, id=item["id"], action="B", reason=" \n ")

    assert result["__typename"] == "InvalidInput", result
    assert result["field"] == "reason"
    assert (await stored(database, item["id"])).status == "PENDING"
    assert await stored_verdicts(database, item["id"]) == []


async def test_an_override_to_the_proposed_action_is_refused_on_the_action(gql, database):
    desk = await open_desk(gql, reviewer="senior")
    item = await desk.item(action="A")

    result = await desk.run(OVERRIDE, desk.ana, id=item["id"], action="A", reason="same")

    assert result["__typename"] == "InvalidInput", result
    assert result["field"] == "action"
    assert (await stored(database, item["id"])).status == "PENDING"


async def test_an_override_to_an_action_the_workflow_does_not_offer_is_refused(gql, database):
    desk = await open_desk(gql, reviewer="senior")
    item = await desk.item(action="A")

    result = await desk.run(OVERRIDE, desk.ana, id=item["id"], action="Z", reason="why not")

    assert result["__typename"] == "InvalidInput", result
    assert result["field"] == "action"
    assert (await stored(database, item["id"])).status == "PENDING"
    assert await stored_verdicts(database, item["id"]) == []


async def test_an_override_chooses_another_action_and_stores_it(gql, database):
    desk = await open_desk(gql, reviewer="senior")
    item = await desk.item(action="A")

    result = await desk.run(OVERRIDE, desk.ana, id=item["id"], action="C", reason="seen it before")

    assert result["__typename"] == "DecisionSuccess", result
    assert result["decision"]["verdict"] == "OVERRIDE"
    assert result["decision"]["finalAction"] == "C"
    row = await stored(database, item["id"])
    assert (row.status, row.final_action) == ("OVERRIDDEN", "C")


async def test_an_override_is_forbidden_in_a_verifier_workflow(gql, database):
    desk = await open_desk(gql, reviewerRole="VERIFIER")
    item = await desk.item()

    result = await desk.run(OVERRIDE, desk.ana, id=item["id"], action="B", reason="because")

    assert result["__typename"] == "Forbidden", result
    assert (await stored(database, item["id"])).status == "PENDING"
    assert await stored_verdicts(database, item["id"]) == []


async def test_an_override_is_forbidden_in_an_editor_workflow(gql, database):
    desk = await open_desk(gql, kind="DRAFT", reviewerRole="EDITOR")
    item = await desk.item(draft="Dear customer")

    result = await desk.run(OVERRIDE, desk.ana, id=item["id"], action="B", reason="because")

    assert result["__typename"] == "Forbidden", result
    assert (await stored(database, item["id"])).status == "PENDING"


# ------------------------------------------------------------------ edit

DRAFT_QUERY = """
query($id: ID!) {
  recommendation(id: $id) {
    status finalAction
    draft { original content revisions { content author { name } } }
  }
}"""


async def _edit_and_read(desk: Desk, database: Any) -> None:
    item = await desk.item(draft="Dear customer, thanks.")

    result = await desk.run(EDIT, desk.ana, id=item["id"], content="Dear Ms Smith, thank you.")

    assert result["__typename"] == "DecisionSuccess", result
    assert result["decision"]["verdict"] == "EDIT"
    assert result["decision"]["editedContent"] == "Dear Ms Smith, thank you."
    assert result["recommendation"]["status"] == "EDITED"
    read = (await desk.gql(DRAFT_QUERY, {"id": item["id"]}, token=desk.ana))["recommendation"]
    assert read["status"] == "EDITED"
    assert read["finalAction"] == "A"
    assert read["draft"]["original"] == "Dear customer, thanks."
    assert read["draft"]["content"] == "Dear Ms Smith, thank you."
    assert read["draft"]["revisions"] == [
        {"content": "Dear Ms Smith, thank you.", "author": {"name": "ana"}}
    ]
    row = await stored(database, item["id"])
    assert (row.status, row.draft_original, row.draft_content) == (
        "EDITED",
        "Dear customer, thanks.",
        "Dear Ms Smith, thank you.",
    )


async def test_an_editor_ships_an_edited_draft(gql, database):
    desk = await open_desk(gql, kind="DRAFT", reviewerRole="EDITOR")
    await _edit_and_read(desk, database)


async def test_an_expert_ships_an_edited_draft(gql, database):
    desk = await open_desk(gql, kind="DRAFT", reviewerRole="EXPERT")
    await _edit_and_read(desk, database)


async def test_an_edit_is_forbidden_in_a_verifier_draft_workflow(gql, database):
    desk = await open_desk(gql, kind="DRAFT", reviewerRole="VERIFIER")
    item = await desk.item(draft="Dear customer")

    result = await desk.run(EDIT, desk.ana, id=item["id"], content="Hello")

    assert result["__typename"] == "Forbidden", result
    row = await stored(database, item["id"])
    assert (row.status, row.draft_content) == ("PENDING", "Dear customer")
    async with database.read_engine.connect() as connection:
        count = (
            await connection.execute(sa.select(sa.func.count()).select_from(revisions_t))
        ).scalar_one()
    assert count == 0


async def test_an_edit_is_forbidden_in_a_classification_workflow(gql, database):
    desk = await open_desk(gql, reviewerRole="EXPERT")
    item = await desk.item()

    result = await desk.run(EDIT, desk.ana, id=item["id"], content="Hello")

    assert result["__typename"] == "Forbidden", result
    assert (await stored(database, item["id"])).status == "PENDING"


# ------------------------------------------------------------------ leases


async def test_an_item_claimed_by_one_reviewer_cannot_be_approved_by_another(gql, database):
    desk = await open_desk(gql)
    item = await desk.item()
    claimed = await desk.run(CLAIM, desk.ana, id=item["id"])
    assert claimed["__typename"] == "ClaimSuccess", claimed

    result = await desk.run(APPROVE, desk.bob, id=item["id"])

    assert result["__typename"] == "Conflict", result
    assert result["currentStatus"] == "CLAIMED"
    row = await stored(database, item["id"])
    assert row.status == "CLAIMED"
    assert row.claimed_by_id is not None
    assert await stored_verdicts(database, item["id"]) == []
    read = await desk.read(item["id"])
    assert read["claim"]["reviewer"]["name"] == "ana"


async def test_the_holder_releases_a_claim_and_the_item_is_pending_again(gql, database):
    desk = await open_desk(gql)
    item = await desk.item()
    await desk.run(CLAIM, desk.ana, id=item["id"])

    released = await desk.run(RELEASE, desk.ana, id=item["id"])

    assert released["__typename"] == "RecommendationSuccess", released
    assert released["recommendation"]["status"] == "PENDING"
    assert released["recommendation"]["claim"] is None
    row = await stored(database, item["id"])
    assert (row.status, row.claimed_by_id) == ("PENDING", None)
    again = await desk.run(CLAIM, desk.bob, id=item["id"])
    assert again["__typename"] == "ClaimSuccess", again


async def test_someone_else_cannot_release_a_claim(gql, database):
    desk = await open_desk(gql)
    item = await desk.item()
    await desk.run(CLAIM, desk.ana, id=item["id"])

    released = await desk.run(RELEASE, desk.bob, id=item["id"])

    assert released["__typename"] == "Conflict", released
    row = await stored(database, item["id"])
    assert row.status == "CLAIMED"
    assert (await desk.read(item["id"]))["claim"]["reviewer"]["name"] == "ana"


async def test_an_expired_lease_frees_the_item_for_another_reviewer(database, database_url):
    async with client_with(database_url, claim_lease_seconds=1) as client:
        desk = await open_desk(client)
        item = await desk.item()
        claimed = await desk.run(CLAIM, desk.ana, id=item["id"])
        assert claimed["__typename"] == "ClaimSuccess", claimed
        assert (await desk.read(item["id"]))["status"] == "CLAIMED"

        await asyncio.sleep(1.2)

        read = await desk.read(item["id"])
        assert read["status"] == "PENDING"
        assert read["claim"] is None
        listed = await client(
            """query($wf: String!) {
                 pending: queue(workflow: $wf, statuses: [PENDING]) { edges { node { id } } }
                 claimed: queue(workflow: $wf, statuses: [CLAIMED]) { totalCount }
                 workflow(key: $wf) { queueCounts { tier status count } }
               }""",
            {"wf": desk.key},
            token=desk.admin,
        )
        assert [e["node"]["id"] for e in listed["pending"]["edges"]] == [item["id"]]
        assert listed["claimed"]["totalCount"] == 0
        assert listed["workflow"]["queueCounts"] == [
            {"tier": "ANALYST_REVIEW", "status": "PENDING", "count": 1}
        ]
        taken = await desk.run(CLAIM, desk.bob, id=item["id"])
        assert taken["__typename"] == "ClaimSuccess", taken
        assert taken["claim"]["reviewer"]["name"] == "bob"
        approved = await desk.run(APPROVE, desk.bob, id=item["id"])
        assert approved["__typename"] == "DecisionSuccess", approved
    assert (await stored(database, item["id"])).status == "APPROVED"


async def test_a_stale_expected_version_is_a_conflict_naming_the_current_version(gql, database):
    desk = await open_desk(gql)
    item = await desk.item()
    claimed = await desk.run(CLAIM, desk.ana, id=item["id"])
    current = claimed["recommendation"]["version"]
    assert current != item["version"]

    result = await desk.run(APPROVE, desk.ana, id=item["id"], v=item["version"])

    assert result["__typename"] == "Conflict", result
    assert result["currentVersion"] == current
    assert result["currentStatus"] == "CLAIMED"
    row = await stored(database, item["id"])
    assert (row.status, row.version) == ("CLAIMED", current)


async def test_deciding_an_unclaimed_item_is_allowed_and_has_no_dwell_time(gql, database):
    desk = await open_desk(gql)
    item = await desk.item()

    result = await desk.run(APPROVE, desk.ana, id=item["id"], v=item["version"])

    assert result["__typename"] == "DecisionSuccess", result
    assert result["decision"]["dwellMs"] is None
    assert result["decision"]["actor"]["name"] == "ana"
    assert (await stored(database, item["id"])).status == "APPROVED"


# ------------------------------------------------------------------ claimNext


async def test_claim_next_hands_out_the_item_due_soonest_first(gql):
    desk = await open_desk(gql, reviewer="senior")
    senior_item = await desk.item(confidence=0.6)  # older, but due in 24 h
    analyst_item = await desk.item(confidence=0.8)  # newer, due in 4 h
    assert (senior_item["tier"], analyst_item["tier"]) == ("SENIOR_REVIEW", "ANALYST_REVIEW")

    first = await desk.run(CLAIM_NEXT, desk.ana, wf=desk.key)
    second = await desk.run(CLAIM_NEXT, desk.ana, wf=desk.key)
    third = await desk.run(CLAIM_NEXT, desk.ana, wf=desk.key)

    assert first["__typename"] == "ClaimSuccess", first
    assert first["recommendation"]["id"] == analyst_item["id"]
    assert second["recommendation"]["id"] == senior_item["id"]
    assert third["__typename"] == "QueueEmpty", third


async def test_claim_next_takes_the_oldest_among_items_due_at_the_same_time(gql, database):
    desk = await open_desk(gql)
    batch = await submit(
        gql, desk.model, desk.key, *[{"payload": {}, "proposedAction": "A", "confidence": 0.8}] * 2
    )
    ids = sorted(r["id"] for r in batch["recommendations"])
    # The same due time for both; the item with the larger id is made the older one, so
    # that the id (the last tie-breaker) would pick the other.
    due = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    older = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    async with database.write_engine.begin() as connection:
        await connection.execute(
            recs.update().where(recs.c.id.in_(ids)).values(sla_due_at=due, due_sort=due)
        )
        await connection.execute(recs.update().where(recs.c.id == ids[1]).values(created_at=older))

    first = await desk.run(CLAIM_NEXT, desk.ana, wf=desk.key)

    assert first["__typename"] == "ClaimSuccess", first
    assert first["recommendation"]["id"] == ids[1]


async def test_claim_next_skips_items_that_others_hold(gql):
    desk = await open_desk(gql)
    older = await desk.item()
    newer = await desk.item()
    held = await desk.run(CLAIM, desk.ana, id=older["id"])
    assert held["__typename"] == "ClaimSuccess"

    mine = await desk.run(CLAIM_NEXT, desk.bob, wf=desk.key)
    nothing = await desk.run(CLAIM_NEXT, desk.bob, wf=desk.key)

    assert mine["__typename"] == "ClaimSuccess", mine
    assert mine["recommendation"]["id"] == newer["id"]
    assert mine["claim"]["reviewer"]["name"] == "bob"
    # bob's own live lease is not handed out again either
    assert nothing["__typename"] == "QueueEmpty", nothing


async def test_claim_next_on_an_empty_queue_is_queue_empty(gql):
    desk = await open_desk(gql)

    result = await desk.run(CLAIM_NEXT, desk.ana, wf=desk.key)

    assert result["__typename"] == "QueueEmpty", result
    assert result["message"]


# ------------------------------------------------------------------ high stakes


async def _high_stakes_desk(gql: Any) -> Desk:
    return await open_desk(gql, policy={"highStakesAt": 1000})


async def _challenge(desk: Desk, rec_id: str, as_user: str) -> dict[str, Any]:
    asked = await desk.run(APPROVE, as_user, id=rec_id)
    assert asked["__typename"] == "ConfirmationRequired", asked
    return asked


async def test_a_high_stakes_approval_asks_for_a_confirmation_first(gql, database):
    desk = await _high_stakes_desk(gql)
    item = await desk.item(stakes=5000)

    asked = await desk.run(APPROVE, desk.ana, id=item["id"])

    assert asked["__typename"] == "ConfirmationRequired", asked
    assert asked["token"]
    expires_at = datetime.fromisoformat(asked["expiresAt"])
    assert expires_at > datetime.now(UTC)
    assert (await desk.read(item["id"]))["status"] == "AWAITING_CONFIRMATION"
    row = await stored(database, item["id"])
    assert row.status == "AWAITING_CONFIRMATION"
    assert await stored_verdicts(database, item["id"]) == []


async def test_a_high_stakes_approval_with_its_token_is_decided(gql, database):
    desk = await _high_stakes_desk(gql)
    item = await desk.item(stakes=5000)
    asked = await _challenge(desk, item["id"], desk.ana)

    confirmed = await desk.run(APPROVE, desk.ana, id=item["id"], token=asked["token"])

    assert confirmed["__typename"] == "DecisionSuccess", confirmed
    assert confirmed["recommendation"]["status"] == "APPROVED"
    assert (await stored(database, item["id"])).status == "APPROVED"
    assert await stored_verdicts(database, item["id"]) == ["APPROVE"]


async def test_a_confirmation_token_works_only_once(gql, database):
    desk = await _high_stakes_desk(gql)
    item = await desk.item(stakes=5000)
    asked = await _challenge(desk, item["id"], desk.ana)
    await desk.run(APPROVE, desk.ana, id=item["id"], token=asked["token"])

    again = await desk.run(APPROVE, desk.ana, id=item["id"], token=asked["token"])

    assert again["__typename"] in ("Conflict", "InvalidInput"), again
    assert await stored_verdicts(database, item["id"]) == ["APPROVE"]


async def test_a_used_token_does_not_confirm_another_decision_on_a_fresh_item(gql, database):
    desk = await _high_stakes_desk(gql)
    first = await desk.item(stakes=5000)
    second = await desk.item(stakes=5000)
    asked = await _challenge(desk, first["id"], desk.ana)
    await desk.run(APPROVE, desk.ana, id=first["id"], token=asked["token"])

    result = await desk.run(APPROVE, desk.ana, id=second["id"], token=asked["token"])

    assert result["__typename"] == "InvalidInput", result
    assert result["field"] == "confirmationToken"
    assert await stored_verdicts(database, second["id"]) == []


async def test_a_token_issued_to_one_reviewer_does_not_confirm_for_another(gql, database):
    desk = await _high_stakes_desk(gql)
    item = await desk.item(stakes=5000)
    asked = await _challenge(desk, item["id"], desk.ana)

    result = await desk.run(APPROVE, desk.bob, id=item["id"], token=asked["token"])

    assert result["__typename"] == "InvalidInput", result
    assert result["field"] == "confirmationToken"
    assert (await stored(database, item["id"])).status == "AWAITING_CONFIRMATION"
    assert await stored_verdicts(database, item["id"]) == []


async def test_a_token_issued_for_an_approval_does_not_confirm_a_rejection(gql, database):
    desk = await _high_stakes_desk(gql)
    item = await desk.item(stakes=5000)
    asked = await _challenge(desk, item["id"], desk.ana)

    result = await desk.run(REJECT, desk.ana, id=item["id"], reason="no", token=asked["token"])

    assert result["__typename"] == "InvalidInput", result
    assert result["field"] == "confirmationToken"
    assert (await stored(database, item["id"])).status == "AWAITING_CONFIRMATION"
    assert await stored_verdicts(database, item["id"]) == []


async def test_a_token_for_one_override_does_not_confirm_an_override_to_another_action(
    gql, database
):
    desk = await open_desk(gql, reviewer="senior", policy={"highStakesAt": 1000})
    item = await desk.item(stakes=5000)
    asked = await desk.run(OVERRIDE, desk.ana, id=item["id"], action="B", reason="r")
    assert asked["__typename"] == "ConfirmationRequired", asked

    result = await desk.run(
        OVERRIDE, desk.ana, id=item["id"], action="C", reason="r", token=asked["token"]
    )

    assert result["__typename"] == "InvalidInput", result
    assert result["field"] == "confirmationToken"
    assert await stored_verdicts(database, item["id"]) == []


async def test_a_token_for_an_earlier_version_of_the_item_is_not_accepted(gql, database):
    desk = await _high_stakes_desk(gql)
    item = await desk.item(stakes=5000)
    asked = await _challenge(desk, item["id"], desk.ana)
    flagged = await desk.run(FLAG, desk.bob, id=item["id"], note="wait for the audit")
    assert flagged["__typename"] == "DecisionSuccess", flagged

    result = await desk.run(APPROVE, desk.ana, id=item["id"], token=asked["token"])

    assert result["__typename"] == "InvalidInput", result
    assert result["field"] == "confirmationToken"
    row = await stored(database, item["id"])
    assert row.status == "FLAGGED"
    assert await stored_verdicts(database, item["id"]) == ["FLAG"]


async def test_a_high_stakes_threshold_set_by_a_policy_update_applies_to_waiting_items(
    gql, database
):
    desk = await open_desk(gql)
    item = await desk.item(stakes=5000)
    updated = await desk.run(UPDATE_POLICY, desk.admin, wf=desk.key, input={"highStakesAt": 1000})
    assert updated["__typename"] == "PolicySuccess", updated
    assert updated["policy"]["highStakesAt"] == 1000

    asked = await desk.run(APPROVE, desk.ana, id=item["id"])
    assert asked["__typename"] == "ConfirmationRequired", asked
    confirmed = await desk.run(APPROVE, desk.ana, id=item["id"], token=asked["token"])

    assert confirmed["__typename"] == "DecisionSuccess", confirmed
    assert (await stored(database, item["id"])).status == "APPROVED"


async def test_items_below_the_high_stakes_threshold_need_no_token(gql, database):
    desk = await _high_stakes_desk(gql)
    small = await desk.item(stakes=999)
    unknown = await desk.item()

    for item in (small, unknown):
        result = await desk.run(APPROVE, desk.ana, id=item["id"])
        assert result["__typename"] == "DecisionSuccess", result
        assert (await stored(database, item["id"])).status == "APPROVED"


async def test_a_confident_high_stakes_proposal_is_never_approved_automatically(gql, database):
    desk = await _high_stakes_desk(gql)

    item = await desk.item(confidence=0.99, stakes=5000)

    assert (item["tier"], item["status"]) == ("ANALYST_REVIEW", "PENDING")
    assert await stored_verdicts(database, item["id"]) == []


async def test_an_expired_confirmation_token_is_not_accepted(database, database_url):
    async with client_with(database_url, confirmation_ttl_seconds=1) as client:
        desk = await _high_stakes_desk(client)
        item = await desk.item(stakes=5000)
        asked = await _challenge(desk, item["id"], desk.ana)

        await asyncio.sleep(1.2)

        result = await desk.run(APPROVE, desk.ana, id=item["id"], token=asked["token"])
        assert result["__typename"] == "InvalidInput", result
        assert result["field"] == "confirmationToken"
    assert (await stored(database, item["id"])).status != "APPROVED"
    assert await stored_verdicts(database, item["id"]) == []


async def test_an_item_whose_confirmation_expired_unanswered_is_back_in_the_queue(
    database, database_url
):
    """AWAITING_CONFIRMATION means "a confirmation token is outstanding" (the contract); once
    the token has expired unanswered, the item should read PENDING and be handed out again,
    as an item whose lease expired is."""
    async with client_with(database_url, confirmation_ttl_seconds=1) as client:
        desk = await _high_stakes_desk(client)
        item = await desk.item(stakes=5000)
        await _challenge(desk, item["id"], desk.ana)
        assert (await desk.read(item["id"]))["status"] == "AWAITING_CONFIRMATION"

        await asyncio.sleep(1.2)

        assert (await desk.read(item["id"]))["status"] == "PENDING"
        handed_out = await desk.run(CLAIM_NEXT, desk.bob, wf=desk.key)
        assert handed_out["__typename"] == "ClaimSuccess", handed_out
        assert handed_out["recommendation"]["id"] == item["id"]
