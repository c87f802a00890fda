"""Several reviews per item under every guard version 1 already had, on SQLite and
PostgreSQL: canaries, audit samples, the SLA sweep, undo, the daily load cap, policy
changes, claimNext's hand-outs and leases, flags and high-stakes confirmation."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from domain.clock import ManualClock, using_clock, utcnow
from domain.usecases.sla import sweep_sla
from store.repositories import SqlRecommendations
from tests.api.test_consensus import (
    APPROVE,
    ASK,
    CLAIM_NEXT,
    CONFIRM,
    ITEM,
    ITEM_FIELDS,
    OVERRIDE,
    REJECT,
    UNDO,
    VOTE_RESULT,
    a_desk,
)
from tests.factories import create_user, submit_one

TWO_OF_THREE = {"reviewsRequired": 3, "agreementRequired": 2}

CLAIM = """mutation($id: ID!) { claim(id: $id) {
  __typename ... on ClaimSuccess { recommendation { id } } ... on Problem { message } } }"""
CLAIM_NEXT_ITEM = f"""mutation($wf: String!) {{ claimNext(workflow: $wf) {{
  __typename
  ... on ClaimSuccess {{ recommendation {{ {ITEM_FIELDS} claim {{ reviewer {{ name }} }} }} }}
  ... on Problem {{ message }} }} }}"""
RELEASE = """mutation($id: ID!) { release(id: $id) {
  __typename ... on Problem { message } } }"""
FLAG = f"""mutation($id: ID!) {{ flag(id: $id, note: "odd payload") {{ {VOTE_RESULT} }} }}"""
POLICY = """mutation($wf: String!, $input: EscalationPolicyInput!) {
  updateEscalationPolicy(workflow: $wf, input: $input) {
    __typename ... on PolicySuccess { rerouted } ... on Problem { message } } }"""
STATS = """query($wf: String!) {
  reviewerStats(workflow: $wf) { reviewer { name } auditAccuracy canariesMissed }
  divergence(workflow: $wf, window: WEEK) { autoApprovePrecision } }"""


async def one(gql: Any, query: str, as_user: str, **variables: Any) -> dict[str, Any]:
    """The single field a mutation or query answers, run as the user with this token."""
    data = await gql(query, variables, token=as_user)
    return dict(next(iter(data.values())))


async def read(gql: Any, desk: dict[str, Any], item_id: str) -> dict[str, Any]:
    """The item as an admin sees it (every vote shown)."""
    return await one(gql, ITEM, desk["admin"], id=item_id)


async def set_policy(gql: Any, desk: dict[str, Any], **changes: Any) -> dict[str, Any]:
    result = await one(gql, POLICY, desk["admin"], wf=desk["key"], input=changes)
    assert result["__typename"] == "PolicySuccess", result
    return result


async def decide(gql: Any, query: str, token: str, item_id: str, **more: Any) -> dict[str, Any]:
    """A decision on the item (a vote, when it collects them) that must succeed."""
    result = await one(gql, query, token, id=item_id, **more)
    assert result["__typename"] == "DecisionSuccess", result
    return result


# ------------------------------------------------------------------ canaries and audits


async def test_a_canary_handed_by_claim_next_is_one_reviewers_item_and_is_scored_as_before(gql):
    desk = await a_desk(gql, **TWO_OF_THREE)
    ana, bob, _ = desk["reviewers"]
    source = await submit_one(gql, desk["model"], desk["key"], confidence=0.8)
    await decide(gql, OVERRIDE, ana, source["id"], action="B")
    await decide(gql, OVERRIDE, bob, source["id"], action="B")  # the consensus: overridden to B
    await set_policy(gql, desk, canaryRate=1.0)
    real = await submit_one(gql, desk["model"], desk["key"], confidence=0.8)

    handed = await one(gql, CLAIM_NEXT_ITEM, ana, wf=desk["key"])
    canary = handed["recommendation"]
    decided = await decide(gql, APPROVE, ana, canary["id"])

    assert canary["id"] not in (source["id"], real["id"])
    assert canary["consensus"] is None
    assert [c["reviewer"]["name"] for c in canary["claims"]] == ["ana"]
    assert decided["decision"]["vote"] is False
    assert decided["recommendation"]["status"] == "APPROVED"
    stats = await gql(STATS, {"wf": desk["key"]}, token=desk["admin"])
    by_name = {s["reviewer"]["name"]: s for s in stats["reviewerStats"]}
    assert (by_name["ana"]["canariesMissed"], by_name["ana"]["auditAccuracy"]) == (1, 0.0)
    untouched = await read(gql, desk, real["id"])
    assert untouched["consensus"]["reviewsIn"] == 0 and untouched["claims"] == []


async def test_audit_sampled_items_collect_votes_and_their_outcomes_measure_auto_approval(gql):
    desk = await a_desk(gql, auditSampleRate=1.0, **TWO_OF_THREE)
    ana, bob, cal = desk["reviewers"]
    kept = await submit_one(gql, desk["model"], desk["key"], confidence=0.95)
    corrected = await submit_one(gql, desk["model"], desk["key"], confidence=0.95)

    first = await decide(gql, APPROVE, ana, kept["id"])
    await decide(gql, OVERRIDE, bob, kept["id"], action="B")
    await decide(gql, APPROVE, cal, kept["id"])
    await decide(gql, OVERRIDE, ana, corrected["id"], action="C")
    await decide(gql, OVERRIDE, bob, corrected["id"], action="C")

    assert kept["sampledForAudit"] and kept["tier"] == "ANALYST_REVIEW"
    assert first["recommendation"]["consensus"]["state"] == "COLLECTING"
    assert first["recommendation"]["status"] == "PENDING"
    assert (await read(gql, desk, kept["id"]))["status"] == "APPROVED"
    assert (await read(gql, desk, corrected["id"]))["finalAction"] == "C"
    report = await gql(STATS, {"wf": desk["key"]}, token=desk["admin"])
    # Two items, one kept as the model proposed: 1/2 (counting each vote would say 2/5).
    assert report["divergence"]["autoApprovePrecision"] == 0.5


# ------------------------------------------------------------------ the SLA sweep


async def test_an_overdue_item_collecting_votes_escalates_with_its_votes_and_a_seniors_counts(gql):
    clock = ManualClock(utcnow())
    with using_clock(clock):
        desk = await a_desk(gql, **TWO_OF_THREE)
        ana = desk["reviewers"][0]
        item = await submit_one(gql, desk["model"], desk["key"], confidence=0.8)
        await decide(gql, APPROVE, ana, item["id"])
        clock.advance(timedelta(hours=5))  # the analyst SLA is 4 hours
        swept = await gql.services.run(sweep_sla, utcnow())
        escalated = await read(gql, desk, item["id"])
        senior = await decide(gql, APPROVE, desk["senior"], item["id"])

    assert swept.escalated == 1
    assert escalated["tier"] == "SENIOR_REVIEW" and escalated["status"] == "PENDING"
    assert escalated["consensus"]["state"] == "COLLECTING"
    assert [v["actor"]["name"] for v in escalated["consensus"]["votes"]] == ["ana"]
    assert senior["decision"]["vote"] is True
    done = senior["recommendation"]
    assert (done["status"], done["consensus"]["state"]) == ("APPROVED", "REACHED")
    assert [v["actor"]["name"] for v in done["consensus"]["votes"]] == ["ana", "sam"]


async def test_an_overdue_item_a_reviewer_leases_escalates_only_once_the_lease_ends(gql):
    clock = ManualClock(utcnow())
    with using_clock(clock):
        desk = await a_desk(gql, **TWO_OF_THREE)
        bob = desk["reviewers"][1]
        item = await submit_one(gql, desk["model"], desk["key"], confidence=0.8)
        clock.advance(timedelta(hours=3, minutes=55))
        assert (await one(gql, CLAIM, bob, id=item["id"]))["__typename"] == "ClaimSuccess"
        clock.advance(timedelta(minutes=10))  # overdue, and bob's 15-minute lease runs
        held = await gql.services.run(sweep_sla, utcnow())
        tier_held = (await read(gql, desk, item["id"]))["tier"]
        clock.advance(timedelta(minutes=10))  # the lease ran out
        freed = await gql.services.run(sweep_sla, utcnow())
        tier_freed = (await read(gql, desk, item["id"]))["tier"]

    assert (held.escalated, tier_held) == (0, "ANALYST_REVIEW")
    assert (freed.escalated, tier_freed) == (1, "SENIOR_REVIEW")


async def test_the_sweeps_query_passes_over_items_a_reviewer_leases(gql, database):
    # Otherwise a head of leased overdue items, read and left alone on every sweep, could
    # fill its batch and keep it from the overdue items behind them.
    clock = ManualClock(utcnow())
    with using_clock(clock):
        desk = await a_desk(gql, **TWO_OF_THREE)
        leased = await submit_one(gql, desk["model"], desk["key"], confidence=0.8)
        waiting = await submit_one(gql, desk["model"], desk["key"], confidence=0.8)
        clock.advance(timedelta(hours=3, minutes=55))
        await one(gql, CLAIM, desk["reviewers"][0], id=leased["id"])
        clock.advance(timedelta(minutes=10))  # both overdue; the 15-minute lease runs
        while_leased = await due_for_sweep(database, utcnow())
        clock.advance(timedelta(minutes=10))
        after_lease = await due_for_sweep(database, utcnow())

    assert while_leased == {waiting["id"]}
    assert after_lease == {leased["id"], waiting["id"]}


async def due_for_sweep(database: Any, now: Any) -> set[str]:
    async with database.write_sessions()() as session:
        found = await SqlRecommendations(session, skip_locked=False).due_for_sweep(now, 50)
        return {item.id for item in found}


# ------------------------------------------------------------------ load cap and undo


async def test_the_daily_cap_counts_votes_and_an_undone_vote_gives_its_place_back(gql):
    desk = await a_desk(gql, maxDailyDecisionsPerReviewer=2, **TWO_OF_THREE)
    ana = desk["reviewers"][0]
    items = [await submit_one(gql, desk["model"], desk["key"], confidence=0.8) for _ in range(3)]
    await decide(gql, APPROVE, ana, items[0]["id"])
    last = await decide(gql, REJECT, ana, items[1]["id"])

    capped = await one(gql, CLAIM_NEXT, ana, wf=desk["key"])
    await one(gql, UNDO, ana, id=last["decision"]["id"])
    after_undo = await one(gql, CLAIM_NEXT, ana, wf=desk["key"])

    assert capped["__typename"] == "QueueEmpty", capped
    assert "daily limit of 2" in capped["message"]
    assert after_undo["__typename"] == "ClaimSuccess", after_undo
    assert after_undo["recommendation"]["id"] == items[1]["id"]


async def test_the_vote_that_decided_an_item_cannot_be_undone(gql):
    desk = await a_desk(gql, **TWO_OF_THREE)
    ana, bob, _ = desk["reviewers"]
    item = await submit_one(gql, desk["model"], desk["key"], confidence=0.8)
    await decide(gql, APPROVE, ana, item["id"])
    deciding = await decide(gql, APPROVE, bob, item["id"])

    refused = await one(gql, UNDO, bob, id=deciding["decision"]["id"])

    assert refused["__typename"] == "Conflict", refused
    after = await read(gql, desk, item["id"])
    assert (after["status"], after["consensus"]["state"]) == ("APPROVED", "REACHED")


# ------------------------------------------------------------------ policy changes


async def test_a_policy_change_leaves_items_under_review_and_reroutes_untouched_ones(gql):
    desk = await a_desk(gql, **TWO_OF_THREE)
    ana, bob, _ = desk["reviewers"]
    leased, voted, untouched = [
        await submit_one(gql, desk["model"], desk["key"], confidence=0.8) for _ in range(3)
    ]
    assert (await one(gql, CLAIM, ana, id=leased["id"]))["__typename"] == "ClaimSuccess"
    await decide(gql, APPROVE, bob, voted["id"])

    changed = await set_policy(gql, desk, analystAt=0.85)  # 0.8 now belongs to seniors

    assert changed["rerouted"] == 1
    tiers = [(await read(gql, desk, i["id"]))["tier"] for i in (leased, voted, untouched)]
    assert tiers == ["ANALYST_REVIEW", "ANALYST_REVIEW", "SENIOR_REVIEW"]


async def test_a_lease_that_ran_out_does_not_keep_an_item_from_a_policy_change(gql):
    clock = ManualClock(utcnow())
    with using_clock(clock):
        desk = await a_desk(gql, **TWO_OF_THREE)
        item = await submit_one(gql, desk["model"], desk["key"], confidence=0.8)
        await one(gql, CLAIM, desk["reviewers"][0], id=item["id"])
        clock.advance(timedelta(minutes=20))  # past the 15-minute lease
        changed = await set_policy(gql, desk, analystAt=0.85)
        after = await read(gql, desk, item["id"])

    assert changed["rerouted"] == 1
    assert after["tier"] == "SENIOR_REVIEW"


# ------------------------------------------------------------------ hand-outs and leases


async def test_claim_next_never_hands_an_item_back_to_a_reviewer_who_voted_on_it(gql):
    desk = await a_desk(gql, **TWO_OF_THREE)
    ana = desk["reviewers"][0]
    first = await submit_one(gql, desk["model"], desk["key"], confidence=0.8)
    second = await submit_one(gql, desk["model"], desk["key"], confidence=0.8)
    handed = await one(gql, CLAIM_NEXT, ana, wf=desk["key"])
    await decide(gql, APPROVE, ana, handed["recommendation"]["id"])

    then = await one(gql, CLAIM_NEXT, ana, wf=desk["key"])
    await decide(gql, REJECT, ana, then["recommendation"]["id"])
    last = await one(gql, CLAIM_NEXT, ana, wf=desk["key"])

    assert handed["recommendation"]["id"] == first["id"]
    assert then["recommendation"]["id"] == second["id"]
    assert last["__typename"] == "QueueEmpty", last


async def test_claim_next_hands_an_item_to_at_most_reviews_required_reviewers_at_once(gql):
    desk = await a_desk(gql, reviewsRequired=2, agreementRequired=2)
    ana, bob, cal = desk["reviewers"]
    dee = await create_user(gql.services, "analyst", name="dee")
    first = await submit_one(gql, desk["model"], desk["key"], confidence=0.8)
    second = await submit_one(gql, desk["model"], desk["key"], confidence=0.8)

    handed = [(await one(gql, CLAIM_NEXT, t, wf=desk["key"])) for t in (ana, bob, cal)]
    by_id = await one(gql, CLAIM, dee, id=first["id"])
    released = await one(gql, RELEASE, ana, id=first["id"])
    after_release = await one(gql, CLAIM_NEXT, dee, wf=desk["key"])

    assert [h["recommendation"]["id"] for h in handed] == [first["id"], first["id"], second["id"]]
    assert by_id["__typename"] == "Conflict" and "reviews is taken" in by_id["message"]
    assert released["__typename"] == "RecommendationSuccess", released
    assert after_release["recommendation"]["id"] == first["id"]
    claims = (await read(gql, desk, first["id"]))["claims"]
    assert sorted(c["reviewer"]["name"] for c in claims) == ["bob", "dee"]


async def test_a_flag_on_an_item_collecting_votes_is_not_a_vote(gql):
    desk = await a_desk(gql, **TWO_OF_THREE)
    ana, bob, cal = desk["reviewers"]
    item = await submit_one(gql, desk["model"], desk["key"], confidence=0.8)
    await one(gql, CLAIM, ana, id=item["id"])

    flagged = await decide(gql, FLAG, ana, item["id"])
    await decide(gql, REJECT, bob, item["id"])
    deciding = await decide(gql, REJECT, cal, item["id"])

    assert flagged["decision"]["vote"] is False
    assert flagged["recommendation"]["consensus"]["reviewsIn"] == 0
    assert flagged["recommendation"]["claims"] == []  # the flagger's lease ended
    done = deciding["recommendation"]
    assert (done["status"], done["consensus"]["state"]) == ("REJECTED", "REACHED")
    assert [v["actor"]["name"] for v in done["consensus"]["votes"]] == ["bob", "cal"]
    assert [d["verdict"] for d in done["decisions"]] == ["FLAG", "REJECT", "REJECT"]


# ------------------------------------------------------------------ confirmation


async def test_a_high_stakes_vote_is_confirmed_though_another_reviewer_voted_in_between(gql):
    desk = await a_desk(gql, highStakesAt=10000.0, **TWO_OF_THREE)
    ana, bob, _ = desk["reviewers"]
    item = await submit_one(gql, desk["model"], desk["key"], confidence=0.8, stakes=50000.0)

    asked = await one(gql, ASK, ana, id=item["id"])
    bob_asked = await one(gql, ASK, bob, id=item["id"])
    bob_voted = await one(gql, CONFIRM, bob, id=item["id"], token=bob_asked["token"])
    confirmed = await one(gql, CONFIRM, ana, id=item["id"], token=asked["token"])

    assert asked["__typename"] == "ConfirmationRequired", asked
    assert bob_voted["__typename"] == "DecisionSuccess", bob_voted
    assert bob_voted["recommendation"]["status"] == "PENDING"  # nobody held it for ana
    assert confirmed["__typename"] == "DecisionSuccess", confirmed
    done = confirmed["recommendation"]
    assert (done["status"], done["consensus"]["state"]) == ("APPROVED", "REACHED")


async def test_claim_next_finds_an_open_review_below_many_items_whose_reviews_are_all_taken(gql):
    desk = await a_desk(gql, reviewsRequired=3, agreementRequired=3)
    dee = await create_user(gql.services, "analyst", name="dee")
    items = [await submit_one(gql, desk["model"], desk["key"], confidence=0.8) for _ in range(7)]
    for item in items[:6]:
        for reviewer in desk["reviewers"]:
            assert (await one(gql, CLAIM, reviewer, id=item["id"]))["__typename"] == "ClaimSuccess"

    handed = await one(gql, CLAIM_NEXT, dee, wf=desk["key"])

    assert handed["__typename"] == "ClaimSuccess", handed
    assert handed["recommendation"]["id"] == items[6]["id"]


async def test_four_reviewers_racing_for_a_three_review_item_get_at_most_three_leases(gql):
    desk = await a_desk(gql, **TWO_OF_THREE)
    dee = await create_user(gql.services, "analyst", name="dee")
    item = await submit_one(gql, desk["model"], desk["key"], confidence=0.8)

    answers = await asyncio.gather(
        *(one(gql, CLAIM_NEXT, t, wf=desk["key"]) for t in [*desk["reviewers"], dee])
    )

    won = [a for a in answers if a["__typename"] == "ClaimSuccess"]
    assert 1 <= len(won) <= 3, answers
    assert {a["__typename"] for a in answers} <= {"ClaimSuccess", "QueueEmpty"}
    claims = (await read(gql, desk, item["id"]))["claims"]
    assert len(claims) == len(won)
