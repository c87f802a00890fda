"""Several reviews per item through GraphQL, on SQLite and PostgreSQL: k-of-n consensus
(votes racing from separate connections too), disputes and adjudication, four eyes,
blind review, taking one's vote back, and policies that cannot be met."""

from __future__ import annotations

import asyncio
from typing import Any

import sqlalchemy as sa

from store.tables import decisions_t, deliveries_t
from tests.api.test_assignment import kinds_of_events
from tests.api.test_queue_and_log import verify
from tests.factories import create_user, create_workflow, submit_one

ITEM_FIELDS = """
  id status tier finalAction version
  claims { reviewer { name } }
  consensus { reviewsRequired agreementRequired reviewsIn state votes { verdict actor { name } } }
  decisions { verdict vote }
"""
VOTE_RESULT = f"""
  __typename
  ... on DecisionSuccess {{ decision {{ id verdict vote }} recommendation {{ {ITEM_FIELDS} }} }}
  ... on Conflict {{ message }}
  ... on Problem {{ message }}
"""
APPROVE = f"mutation($id: ID!) {{ approve(id: $id) {{ {VOTE_RESULT} }} }}"
REJECT = f"mutation($id: ID!) {{ reject(id: $id) {{ {VOTE_RESULT} }} }}"
OVERRIDE = f"""mutation($id: ID!, $action: String!) {{
  override(id: $id, action: $action, reason: "not this one") {{ {VOTE_RESULT} }} }}"""
CLAIM_NEXT = """mutation($wf: String!) { claimNext(workflow: $wf) {
  __typename ... on ClaimSuccess { recommendation { id } claim { reviewer { name } } }
  ... on Problem { message } } }"""
ASK = """mutation($id: ID!) { approve(id: $id) {
  __typename ... on ConfirmationRequired { token } ... on Problem { message } } }"""
CONFIRM = f"""mutation($id: ID!, $token: String!) {{
  approve(id: $id, confirmationToken: $token) {{ {VOTE_RESULT} }} }}"""
ITEM = f"query($id: ID!) {{ recommendation(id: $id) {{ {ITEM_FIELDS} }} }}"
LOG = "query($wf: String!) { decisions(workflow: $wf) { totalCount edges { node { vote } } } }"
UNDO = "mutation($id: ID!) { undo(decisionId: $id) { __typename ... on Problem { message } } }"
UPDATE_POLICY = """mutation($wf: String!, $input: EscalationPolicyInput!) {
  updateEscalationPolicy(workflow: $wf, input: $input) {
    __typename
    ... on PolicySuccess { policy { reviewsRequired agreementRequired agreementIsMajority
      highStakesReviewsRequired blindReview } }
    ... on InvalidInput { field message } } }"""
WEBHOOK = """mutation($wf: String!) { createWebhook(workflow: $wf, url: "http://127.0.0.1:9/h",
  events: [DECIDED, VOTED]) { __typename } }"""


async def a_desk(gql: Any, reviewers: int = 3, **policy: Any) -> dict[str, Any]:
    services = gql.services
    desk: dict[str, Any] = {
        "admin": await create_user(services, "admin"),
        "model": await create_user(services, "service"),
        "senior": await create_user(services, "senior", name="sam"),
    }
    desk["reviewers"] = [
        await create_user(services, "analyst", name=name)
        for name in ("ana", "bob", "cal")[:reviewers]
    ]
    workflow = await create_workflow(gql, desk["admin"], policy=policy)
    desk["key"] = workflow["key"]
    return desk


async def test_two_agreeing_votes_of_three_decide_the_item_once(gql, database):
    desk = await a_desk(gql, reviewsRequired=3, agreementRequired=2)
    item = await submit_one(gql, desk["model"], desk["key"], confidence=0.8)
    ana, bob, cal = desk["reviewers"]
    handed = [
        (await gql(CLAIM_NEXT, {"wf": desk["key"]}, token=t))["claimNext"] for t in (ana, bob, cal)
    ]
    assert [h["recommendation"]["id"] for h in handed] == [item["id"]] * 3

    first = (await gql(OVERRIDE, {"id": item["id"], "action": "B"}, token=ana))["override"]
    second = (await gql(OVERRIDE, {"id": item["id"], "action": "B"}, token=bob))["override"]
    late = (await gql(APPROVE, {"id": item["id"]}, token=cal))["approve"]

    assert first["decision"]["vote"] is True
    assert first["recommendation"]["status"] == "PENDING"
    assert first["recommendation"]["consensus"]["state"] == "COLLECTING"
    assert first["recommendation"]["consensus"]["reviewsIn"] == 1
    assert {c["reviewer"]["name"] for c in first["recommendation"]["claims"]} == {"bob", "cal"}
    assert second["__typename"] == "DecisionSuccess"
    done = second["recommendation"]
    assert (done["status"], done["finalAction"]) == ("OVERRIDDEN", "B")
    assert done["consensus"]["state"] == "REACHED" and done["consensus"]["reviewsIn"] == 2
    assert [v["actor"]["name"] for v in done["consensus"]["votes"]] == ["ana", "bob"]
    assert done["claims"] == []
    assert late["__typename"] == "Conflict"
    assert await kinds_of_events(database, item["id"]) == [
        "ADDED",
        "CLAIMED",
        "CLAIMED",
        "CLAIMED",
        "VOTED",
        "DECIDED",
    ]


async def test_three_votes_racing_from_separate_connections_decide_the_item_exactly_once(
    gql, database
):
    desk = await a_desk(gql, reviewsRequired=3, agreementRequired=2)
    await gql(WEBHOOK, {"wf": desk["key"]}, token=desk["admin"])
    item = await submit_one(gql, desk["model"], desk["key"], confidence=0.8)

    answers = await asyncio.gather(
        *(gql(APPROVE, {"id": item["id"]}, token=t) for t in desk["reviewers"])
    )

    kinds = [a["approve"]["__typename"] for a in answers]
    assert kinds.count("DecisionSuccess") >= 2, answers
    assert set(kinds) <= {"DecisionSuccess", "Conflict"}
    events = await kinds_of_events(database, item["id"])
    assert events.count("DECIDED") == 1 and events.count("VOTED") == 1, events
    async with database.read_engine.connect() as connection:
        deliveries = (
            await connection.execute(
                sa.select(deliveries_t.c.event_kind, sa.func.count()).group_by(
                    deliveries_t.c.event_kind
                )
            )
        ).all()
    assert {str(kind): n for kind, n in deliveries} == {"DECIDED": 1, "VOTED": 1}
    final = (await gql(ITEM, {"id": item["id"]}, token=desk["admin"]))["recommendation"]
    assert final["status"] == "APPROVED" and final["consensus"]["state"] == "REACHED"
    assert [d["vote"] for d in final["decisions"]] == [True, True]


async def test_a_dispute_goes_to_the_senior_queue_and_a_seniors_decision_adjudicates_it(
    gql, database
):
    desk = await a_desk(gql, reviewsRequired=3, agreementRequired=2)
    item = await submit_one(gql, desk["model"], desk["key"], confidence=0.8)
    ana, bob, cal = desk["reviewers"]
    await gql(APPROVE, {"id": item["id"]}, token=ana)
    await gql(REJECT, {"id": item["id"]}, token=bob)
    third = (await gql(OVERRIDE, {"id": item["id"], "action": "C"}, token=cal))["override"]

    disputed = third["recommendation"]
    assert (disputed["status"], disputed["tier"]) == ("PENDING", "SENIOR_REVIEW")
    assert disputed["consensus"]["state"] == "DISPUTED"
    assert await kinds_of_events(database, item["id"]) == [
        "ADDED",
        "VOTED",
        "VOTED",
        "VOTED",
        "ESCALATED",
    ]
    claimed = (await gql(CLAIM_NEXT, {"wf": desk["key"]}, token=desk["senior"]))["claimNext"]
    assert claimed["recommendation"]["id"] == item["id"]
    ruling = (await gql(REJECT, {"id": item["id"]}, token=desk["senior"]))["reject"]

    assert ruling["decision"]["vote"] is False
    assert ruling["recommendation"]["status"] == "REJECTED"
    assert ruling["recommendation"]["consensus"]["state"] == "ADJUDICATED"
    assert (await kinds_of_events(database, item["id"]))[-1] == "DECIDED"


async def test_four_eyes_refuse_the_submitter_and_need_two_agreeing_reviewers(gql):
    desk = await a_desk(gql, highStakesAt=10000.0, highStakesReviewsRequired=2)
    admin, (ana, bob, _) = desk["admin"], desk["reviewers"]
    item = await submit_one(gql, admin, desk["key"], confidence=0.8, stakes=50000.0)

    by_submitter = (await gql(APPROVE, {"id": item["id"]}, token=admin))["approve"]
    first = await confirmed_approval(gql, item["id"], ana)
    second = await confirmed_approval(gql, item["id"], bob)

    assert by_submitter["__typename"] == "Forbidden" and "four eyes" in by_submitter["message"]
    assert first["recommendation"]["consensus"]["state"] == "COLLECTING"
    assert first["recommendation"]["consensus"]["reviewsRequired"] == 2
    assert second["recommendation"]["status"] == "APPROVED"
    assert second["recommendation"]["consensus"]["state"] == "REACHED"


async def confirmed_approval(gql: Any, item: str, token: str) -> dict[str, Any]:
    """Approve a high-stakes item: ask, then confirm with the token the answer carries."""
    asked = (await gql(ASK, {"id": item}, token=token))["approve"]
    assert asked["__typename"] == "ConfirmationRequired", asked
    confirmed = await gql(CONFIRM, {"id": item, "token": asked["token"]}, token=token)
    result = dict(confirmed["approve"])
    assert result["__typename"] == "DecisionSuccess", result
    return result


async def test_blind_votes_are_hidden_until_one_has_voted(gql):
    desk = await a_desk(gql, reviewsRequired=3)
    item = await submit_one(gql, desk["model"], desk["key"], confidence=0.8)
    ana, bob, _ = desk["reviewers"]
    vote = (await gql(APPROVE, {"id": item["id"]}, token=ana))["approve"]["decision"]["id"]
    node = "query($id: ID!) { node(id: $id) { id } }"

    before = await gql(ITEM, {"id": item["id"]}, token=bob)
    hidden_node = await gql(node, {"id": vote}, token=bob)
    log_before = await gql(LOG, {"wf": desk["key"]}, token=bob)
    admin_view = await gql(ITEM, {"id": item["id"]}, token=desk["admin"])
    await gql(REJECT, {"id": item["id"]}, token=bob)
    after = await gql(ITEM, {"id": item["id"]}, token=bob)

    assert hidden_node["node"] is None  # as a VOTED event's decision is, to bob
    assert (await gql(node, {"id": vote}, token=bob))["node"] == {"id": vote}
    assert before["recommendation"]["consensus"]["votes"] == []
    assert before["recommendation"]["consensus"]["reviewsIn"] == 1
    assert before["recommendation"]["decisions"] == []
    assert log_before["decisions"]["totalCount"] == 0
    assert len(admin_view["recommendation"]["consensus"]["votes"]) == 1
    assert [v["verdict"] for v in after["recommendation"]["consensus"]["votes"]] == [
        "APPROVE",
        "REJECT",
    ]


async def test_without_blind_review_everyone_sees_the_votes(gql):
    desk = await a_desk(gql, reviewsRequired=3, blindReview=False)
    item = await submit_one(gql, desk["model"], desk["key"], confidence=0.8)
    ana, bob, _ = desk["reviewers"]
    await gql(APPROVE, {"id": item["id"]}, token=ana)
    seen = await gql(ITEM, {"id": item["id"]}, token=bob)
    assert [v["actor"]["name"] for v in seen["recommendation"]["consensus"]["votes"]] == ["ana"]


async def test_one_takes_back_ones_own_vote_while_the_item_is_open(gql, database):
    desk = await a_desk(gql, reviewsRequired=3)
    item = await submit_one(gql, desk["model"], desk["key"], confidence=0.8)
    ana, bob, _ = desk["reviewers"]
    mine = (await gql(APPROVE, {"id": item["id"]}, token=ana))["approve"]["decision"]["id"]
    await gql(REJECT, {"id": item["id"]}, token=bob)

    undone = (await gql(UNDO, {"id": mine}, token=ana))["undo"]
    again = (await gql(REJECT, {"id": item["id"]}, token=ana))["reject"]

    assert undone["__typename"] == "DecisionSuccess", undone
    assert again["recommendation"]["status"] == "REJECTED"
    assert again["recommendation"]["consensus"]["state"] == "REACHED"


async def test_a_policy_that_cannot_be_met_is_invalid_input_and_changes_nothing(gql):
    desk = await a_desk(gql)
    admin, key = desk["admin"], desk["key"]
    too_many = await gql(
        UPDATE_POLICY,
        {"wf": key, "input": {"reviewsRequired": 3, "agreementRequired": 4}},
        token=admin,
    )
    too_few = await gql(
        UPDATE_POLICY,
        {"wf": key, "input": {"reviewsRequired": 3, "agreementRequired": 0}},
        token=admin,
    )
    fine = await gql(UPDATE_POLICY, {"wf": key, "input": {"reviewsRequired": 3}}, token=admin)

    assert too_many["updateEscalationPolicy"]["field"] == "agreementRequired"
    assert too_few["updateEscalationPolicy"]["field"] == "agreementRequired"
    explicit = await gql(UPDATE_POLICY, {"wf": key, "input": {"agreementRequired": 2}}, token=admin)
    assert fine["updateEscalationPolicy"]["policy"] == {
        "reviewsRequired": 3,
        "agreementRequired": 2,
        "agreementIsMajority": True,
        "highStakesReviewsRequired": 1,
        "blindReview": True,
    }
    assert explicit["updateEscalationPolicy"]["policy"]["agreementRequired"] == 2
    assert explicit["updateEscalationPolicy"]["policy"]["agreementIsMajority"] is False


async def test_an_item_that_needs_several_reviews_is_assigned_to_a_team_not_to_one_reviewer(gql):
    desk = await a_desk(gql, reviewsRequired=3)
    item = await submit_one(gql, desk["model"], desk["key"], confidence=0.8)
    ana = (await gql("{ me { id } }", token=desk["reviewers"][0]))["me"]["id"]

    refused = await gql(
        "mutation($id: ID!, $r: ID) { assign(id: $id, reviewer: $r) { __typename "
        "... on InvalidInput { field message } } }",
        {"id": item["id"], "r": ana},
        token=desk["admin"],
    )

    assert refused["assign"]["__typename"] == "InvalidInput"
    assert "assign it to a team" in refused["assign"]["message"]


async def test_a_confirmation_outlives_another_reviewers_vote_on_the_same_item(gql):
    desk = await a_desk(gql, highStakesAt=10000.0, highStakesReviewsRequired=2)
    ana, bob, _ = desk["reviewers"]
    item = await submit_one(gql, desk["model"], desk["key"], confidence=0.8, stakes=50000.0)
    asked = (await gql(ASK, {"id": item["id"]}, token=ana))["approve"]

    await confirmed_approval(gql, item["id"], bob)
    confirmed = await gql(CONFIRM, {"id": item["id"], "token": asked["token"]}, token=ana)

    assert confirmed["approve"]["__typename"] == "DecisionSuccess", confirmed
    assert confirmed["approve"]["recommendation"]["status"] == "APPROVED"


async def test_votes_a_dispute_and_its_adjudication_are_in_the_log_and_verified(
    gql, database, database_url, monkeypatch, capsys
):
    desk = await a_desk(gql, reviewsRequired=3)
    item = await submit_one(gql, desk["model"], desk["key"], confidence=0.8)
    ana, bob, cal = desk["reviewers"]
    await gql(APPROVE, {"id": item["id"]}, token=ana)
    await gql(REJECT, {"id": item["id"]}, token=bob)
    await gql(OVERRIDE, {"id": item["id"], "action": "C"}, token=cal)
    await gql(REJECT, {"id": item["id"]}, token=desk["senior"])

    code, out = await verify(monkeypatch, capsys, database_url)
    assert code == 0, out
    assert f"ok      {desk['key']}: 4 records, chain holds" in out

    # A vote passed off as an ordinary decision breaks the chain where it was changed.
    async with database.write_engine.begin() as connection:
        first = (
            (
                await connection.execute(
                    sa.select(decisions_t.c.id)
                    .where(decisions_t.c.recommendation_id == item["id"])
                    .order_by(decisions_t.c.seq)
                )
            )
            .scalars()
            .first()
        )
        await connection.execute(
            decisions_t.update().where(decisions_t.c.id == first).values(vote=False)
        )
    code, out = await verify(monkeypatch, capsys, database_url)
    assert code != 0 and f"record 1 (decision {first})" in out, out


async def test_a_new_review_rule_applies_to_items_nobody_has_touched_yet(gql):
    desk = await a_desk(gql)
    item = await submit_one(gql, desk["model"], desk["key"], confidence=0.8)
    assert (await gql(ITEM, {"id": item["id"]}, token=desk["admin"]))["recommendation"][
        "consensus"
    ] is None

    await gql(
        UPDATE_POLICY, {"wf": desk["key"], "input": {"reviewsRequired": 3}}, token=desk["admin"]
    )

    found = (await gql(ITEM, {"id": item["id"]}, token=desk["admin"]))["recommendation"]
    assert (
        found["consensus"]["reviewsRequired"] == 3 and found["consensus"]["state"] == "COLLECTING"
    )
    assert found["tier"] == "ANALYST_REVIEW" and found["status"] == "PENDING"


async def test_claim_next_hands_a_reviewer_the_next_item_not_the_one_they_lease(gql):
    desk = await a_desk(gql, reviewsRequired=3)
    first = await submit_one(gql, desk["model"], desk["key"], confidence=0.8, externalId="1")
    second = await submit_one(gql, desk["model"], desk["key"], confidence=0.8, externalId="2")
    ana = desk["reviewers"][0]

    handed = [
        (await gql(CLAIM_NEXT, {"wf": desk["key"]}, token=ana))["claimNext"] for _ in range(3)
    ]

    assert [h["recommendation"]["id"] for h in handed[:2]] == [first["id"], second["id"]]
    assert handed[2]["__typename"] == "QueueEmpty"
