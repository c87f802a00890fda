"""The drift monitor through the API, on SQLite and PostgreSQL: people stop agreeing with
the served model's proposals, the SLA sweep raises one DRIFT model event with its
message, and the next sweep, in the same episode, raises none."""

from __future__ import annotations

import asyncio
from typing import Any

import sqlalchemy as sa

from domain.clock import utcnow
from domain.learning import ModelArtifact, ModelEventKind, ModelKind, ModelStatus, ModelVersion
from domain.messages import MessageType, decode_model_event
from store.database import connect
from store.tables import drift_alarms_t
from tests.api.test_decisions import APPROVE, CLAIM, OVERRIDE, Desk, client_with, open_desk
from tests.factories import proposal, submit
from workers.bus import Envelope, Subscription
from workers.drift import watch_drift
from workers.runtime import Runtime
from workers.schedule import sweep_once

WINDOW = 20  # decisions per window (the smallest the settings allow)
MODEL_ID = "mdl_" + "d" * 32


async def serve_a_model(runtime: Any, workflow_key: str) -> None:
    """An ACTIVE classifier, v1, as retraining leaves one (its artifact is never loaded:
    the monitor reads only the decisions on its proposals)."""
    async with runtime.unit_of_work() as uow:
        workflow = await uow.workflows.by_key(workflow_key)
        model = ModelVersion(
            id=MODEL_ID,
            workflow_id=workflow.id,
            version=1,
            kind=ModelKind.CLASSIFIER,
            status=ModelStatus.CANDIDATE,
            features=["amount"],
            trained_on=100,
            created_at=utcnow(),
            classes=["A", "B", "C"],
        )
        await uow.models.add(model, ModelArtifact("", {}, {}))
        assert await uow.models.promote(MODEL_ID, workflow.id, ModelKind.CLASSIFIER, utcnow())
        await uow.commit()


async def decide_proposals(desk: Desk, agreements: list[bool]) -> None:
    """The model's proposals (modelVersion v1, confidence 0.8: the analyst tier), decided
    in order by a reviewer who approves (agrees) or overrides."""
    items = [proposal(0.8, "A", modelVersion="v1") for _ in agreements]
    submitted = await submit(desk.gql, desk.model, desk.key, *items)
    assert submitted["__typename"] == "SubmitSuccess", submitted
    for item, agreed in zip(submitted["recommendations"], agreements, strict=True):
        assert item["tier"] == "ANALYST_REVIEW"
        claimed = await desk.run(CLAIM, desk.ana, id=item["id"])
        assert claimed["__typename"] == "ClaimSuccess", claimed
        if agreed:
            decided = await desk.run(APPROVE, desk.ana, id=item["id"])
        else:
            decided = await desk.run(OVERRIDE, desk.ana, id=item["id"], action="B", reason="new")
        assert decided["__typename"] == "DecisionSuccess", decided


async def drifted_desk(gql: Any) -> Desk:
    """A served model people agreed with, then mostly overrode."""
    desk = await open_desk(gql)
    await serve_a_model(gql.services, desk.key)
    await decide_proposals(desk, [True] * WINDOW + [True] * 4 + [False] * (WINDOW - 4))
    return desk


def model_events(subscription: Subscription) -> list[Any]:
    """The model events waiting in the subscription's buffer."""
    found = []
    while not subscription.queue.empty():
        envelope: Envelope | None = subscription.queue.get_nowait()
        if envelope is not None and envelope.type == MessageType.MODEL:
            found.append(decode_model_event(envelope.data))
    return found


async def open_alarms(database: Any) -> list[Any]:
    async with database.read_engine.connect() as connection:
        query = sa.select(drift_alarms_t).where(drift_alarms_t.c.cleared_at.is_(None))
        return list(await connection.execute(query))


async def test_the_sweep_raises_one_drift_event_per_episode(database, database_url):
    async with client_with(database_url, drift_window=WINDOW, sla_sweep_seconds=3600) as gql:
        desk = await drifted_desk(gql)
        subscription = gql.services.bus.subscribe()
        try:
            first = await sweep_once(gql.services)
            [event] = model_events(subscription)
            second = await sweep_once(gql.services)
            assert model_events(subscription) == []
        finally:
            subscription.close()
        jobs = [
            (await desk.run("query($id: ID!) { job(id: $id) { result } }", desk.admin, id=j))
            for j in (first, second)
        ]

    assert event.kind is ModelEventKind.DRIFT and event.model_id == MODEL_ID
    assert event.message is not None
    assert event.message.startswith("agreement on ANALYST_REVIEW fell from 100% to 20% since ")
    assert "(p < 0.001)" in event.message
    [alarm] = await open_alarms(database)
    assert (alarm.tier, alarm.message, alarm.id) == ("ANALYST_REVIEW", event.message, event.episode)
    assert [j["result"]["drift_alarms"] for j in jobs] == [1, 0]


async def test_two_replicas_checking_at_once_raise_the_alarm_once(database, database_url):
    async with client_with(database_url, drift_window=WINDOW, sla_sweep_seconds=3600) as gql:
        await drifted_desk(gql)
        other_db = connect(database_url)
        try:
            other = Runtime(other_db, options=gql.services.options)
            now = utcnow()
            raised = await asyncio.gather(watch_drift(gql.services, now), watch_drift(other, now))
        finally:
            await other_db.dispose()
    assert sorted(len(r) for r in raised) == [0, 1]
    assert len(await open_alarms(database)) == 1


async def test_a_stable_model_raises_nothing(database, database_url):
    async with client_with(database_url, drift_window=WINDOW, sla_sweep_seconds=3600) as gql:
        desk = await open_desk(gql)
        await serve_a_model(gql.services, desk.key)
        # 80% agreement throughout, as the model's confidence says.
        await decide_proposals(desk, ([True] * 4 + [False]) * (2 * WINDOW // 5))
        assert await watch_drift(gql.services, utcnow()) == []
    assert await open_alarms(database) == []


async def test_the_monitor_tests_each_tiers_latest_look_and_no_decision_past_it(
    database, database_url
):
    """Looks come every WINDOW decisions: 19 overrides after a stable look are not read
    until the 20th completes the next look, whose recent window is all overrides."""
    async with client_with(database_url, drift_window=WINDOW, sla_sweep_seconds=3600) as gql:
        desk = await open_desk(gql)
        await serve_a_model(gql.services, desk.key)
        await decide_proposals(desk, ([True] * 4 + [False]) * (2 * WINDOW // 5))
        await decide_proposals(desk, [False] * (WINDOW - 1))
        assert await watch_drift(gql.services, utcnow()) == []
        await decide_proposals(desk, [False])
        [alarm] = await watch_drift(gql.services, utcnow())
    assert alarm.message.startswith("agreement on ANALYST_REVIEW fell from 80% to 0% since ")
