"""A simulated clock (domain.clock.using_clock) reaches every time the API writes and every
window it reads: a decision made under it is stored at its time, and the windows move with it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from domain.clock import ManualClock, as_utc, using_clock
from store.tables import decisions_t, recs_t
from tests.api.test_decisions import APPROVE, CLAIM, client_with, open_desk
from tests.conftest import settle

NINE_AM = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)

DECIDED = """
query($id: ID!) {
  recommendation(id: $id) {
    createdAt decidedAt slaDueAt
    decisions { verdict createdAt }
  }
}"""
DIVERGENCE = """
query($wf: String!) { divergence(workflow: $wf, window: MONTH) { since decisions } }"""


async def test_a_decision_made_under_a_simulated_clock_is_stored_at_that_time(gql, database):
    clock = ManualClock(NINE_AM)
    with using_clock(clock):
        desk = await open_desk(gql)
        item = await desk.item(confidence=0.8)
        claimed = await desk.run(CLAIM, desk.ana, id=item["id"])
        assert claimed["claim"]["expiresAt"] == (NINE_AM + timedelta(minutes=15)).isoformat()
        clock.advance(timedelta(seconds=90))
        decided = await desk.run(APPROVE, desk.ana, id=item["id"])
        assert decided["decision"]["dwellMs"] == 90_000
        read = (await gql(DECIDED, {"id": item["id"]}, token=desk.admin))["recommendation"]

    assert read["createdAt"] == NINE_AM.isoformat()
    assert read["slaDueAt"] == (NINE_AM + timedelta(hours=4)).isoformat()
    assert read["decidedAt"] == (NINE_AM + timedelta(seconds=90)).isoformat()
    assert [d["createdAt"] for d in read["decisions"]] == [
        (NINE_AM + timedelta(seconds=90)).isoformat()
    ]
    async with database.read_engine.connect() as connection:
        stored_decision = (
            await connection.execute(
                sa.select(decisions_t.c.created_at).where(
                    decisions_t.c.recommendation_id == item["id"]
                )
            )
        ).scalar_one()
        stored_item = (
            await connection.execute(
                sa.select(recs_t.c.decided_at).where(recs_t.c.id == item["id"])
            )
        ).scalar_one()
    assert as_utc(stored_decision) == NINE_AM + timedelta(seconds=90)
    assert as_utc(stored_item) == NINE_AM + timedelta(seconds=90)


async def test_windows_are_measured_back_from_the_simulated_time(gql):
    clock = ManualClock(NINE_AM)
    with using_clock(clock):
        desk = await open_desk(gql)
        item = await desk.item(confidence=0.8)
        await desk.run(APPROVE, desk.ana, id=item["id"])
        within = (await gql(DIVERGENCE, {"wf": desk.key}, token=desk.admin))["divergence"]
        clock.advance(timedelta(days=31))
        past = (await gql(DIVERGENCE, {"wf": desk.key}, token=desk.admin))["divergence"]

    assert within["since"] == (NINE_AM - timedelta(days=30)).isoformat()
    assert within["decisions"] == 1
    assert past["since"] == (NINE_AM + timedelta(days=1)).isoformat()
    assert past["decisions"] == 0


JOB_TIMES = """
query($id: ID!) { job(id: $id) { state createdAt startedAt finishedAt } }"""
MINE = """
mutation($wf: String!) {
  mineOverrideThemes(workflow: $wf, window: MONTH) { ... on JobSuccess { job { id } } }
}"""
TIER = "query($id: ID!) { recommendation(id: $id) { tier status slaDueAt } }"


async def test_an_in_process_job_started_under_a_simulated_clock_runs_on_it(gql):
    clock = ManualClock(NINE_AM)
    with using_clock(clock):
        desk = await open_desk(gql)
        job_id = (await gql(MINE, {"wf": desk.key}, token=desk.admin))["mineOverrideThemes"]
        await settle(gql.services)
        job = (await gql(JOB_TIMES, {"id": job_id["job"]["id"]}, token=desk.admin))["job"]
    assert job["state"] == "SUCCEEDED"
    assert job["createdAt"] == job["startedAt"] == job["finishedAt"] == NINE_AM.isoformat()


async def test_the_sla_sweep_of_an_app_started_under_a_simulated_clock_follows_it(
    database, database_url
):
    clock = ManualClock(NINE_AM)
    with using_clock(clock):
        async with client_with(database_url, sla_sweep_seconds=0.05) as client:
            desk = await open_desk(client)
            item = await desk.item(confidence=0.8)  # ANALYST_REVIEW, due at 13:00
            await asyncio.sleep(0.3)  # sweeps at 09:00 escalate nothing
            before = (await client(TIER, {"id": item["id"]}, token=desk.admin))["recommendation"]
            clock.advance(timedelta(hours=5))
            for _ in range(100):  # the next sweep, at 14:00, finds it overdue
                await asyncio.sleep(0.05)
                after = (await client(TIER, {"id": item["id"]}, token=desk.admin))["recommendation"]
                if after["tier"] != "ANALYST_REVIEW":
                    break
    assert before["tier"] == "ANALYST_REVIEW"
    assert after["tier"] == "SENIOR_REVIEW"
    assert after["slaDueAt"] == (NINE_AM + timedelta(hours=5 + 24)).isoformat()
