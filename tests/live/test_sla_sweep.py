"""The SLA sweep: overdue analyst items escalate, senior items are marked breached, lapsed
leases are freed; safe with several sweepers; in-process and through an arq worker."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from arq.worker import create_worker

from api.services import Services, runtime_options
from domain.clock import utcnow
from domain.enums import ReviewerRole, Role, WorkflowKind
from domain.jobs import Job, JobKind, JobState
from domain.usecases.accounts import create_user
from domain.usecases.sla import sweep_sla
from domain.usecases.submission import ProposalInput, submit_recommendations
from domain.usecases.workflows import WorkflowSpec, create_workflow
from store.database import connect
from store.tables import events_t, jobs_t, recs_t
from tests.conftest import make_settings
from workers.runtime import Runtime
from workers.worker import worker_settings

ONE_SECOND_SLA = {"analyst_sla_seconds": 1, "senior_sla_seconds": 1}


async def create_world(runtime: Runtime, items: list[float], **policy: Any) -> list[str]:
    """An admin, a workflow with the given policy, and items of these confidences."""
    admin, _ = await runtime.run(create_user, None, f"admin-{utcnow().timestamp()}", Role.ADMIN)
    spec = WorkflowSpec(
        "sla", "SLA", WorkflowKind.CLASSIFICATION, ReviewerRole.EXPERT, ["A", "B"], None, policy
    )
    await runtime.run(create_workflow, admin, spec)
    submitted = await runtime.run(
        submit_recommendations,
        admin,
        "sla",
        [ProposalInput({"n": i}, "A", c) for i, c in enumerate(items)],
    )
    return [r.id for r in submitted.recommendations]


async def rows(database: Any, ids: list[str]) -> dict[str, Any]:
    async with database.read_engine.connect() as connection:
        result = await connection.execute(sa.select(recs_t).where(recs_t.c.id.in_(ids)))
        return {row.id: row for row in result}


async def event_kinds(database: Any) -> Counter[tuple[str, str]]:
    async with database.read_engine.connect() as connection:
        result = await connection.execute(sa.select(events_t.c.recommendation_id, events_t.c.kind))
        return Counter((row.recommendation_id, row.kind) for row in result)


async def wait_until(predicate: Any, timeout: float = 8.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out waiting"
        await asyncio.sleep(0.1)


async def test_the_embedded_sweep_escalates_then_marks_breached_with_one_second_slas(
    live_server_factory, database
):
    async with live_server_factory(sla_sweep_seconds=1) as server:
        ids = await create_world(server.services, [0.8], **ONE_SECOND_SLA)

        async def escalated() -> bool:
            return (await rows(database, ids))[ids[0]].tier == "SENIOR_REVIEW"

        await wait_until(escalated)

        async def breached() -> bool:
            return bool((await rows(database, ids))[ids[0]].sla_breached)

        await wait_until(breached)
    kinds = await event_kinds(database)
    assert kinds[(ids[0], "ESCALATED")] == 2  # once into the senior queue, once breached
    async with database.read_engine.connect() as connection:
        sweeps = (
            await connection.execute(
                sa.select(jobs_t.c.state, jobs_t.c.message).where(
                    jobs_t.c.kind == JobKind.SLA_SWEEP.value
                )
            )
        ).all()
    assert sweeps and {s.state for s in sweeps} <= {
        JobState.SUCCEEDED.value,
        JobState.RUNNING.value,
    }
    assert any("escalated 1" in (s.message or "") for s in sweeps)


async def test_the_sweep_frees_an_expired_lease_and_says_so(live_server_factory, database):
    async with live_server_factory(sla_sweep_seconds=1, claim_lease_seconds=1) as server:
        services: Services = server.services
        ids = await create_world(services, [0.8])
        admin = await services.run(create_user, None, "holder", Role.SENIOR)
        from domain.usecases.review import claim

        await services.run(claim, admin[0], ids[0], timedelta(seconds=1))

        async def freed() -> bool:
            return (await rows(database, ids))[ids[0]].status == "PENDING"

        await wait_until(freed)
    row = (await rows(database, ids))[ids[0]]
    assert row.claimed_by_id is None
    assert (await event_kinds(database))[(ids[0], "RELEASED")] == 1


async def test_two_sweepers_racing_escalate_each_item_once(database, database_url):
    runtime = Runtime(database)
    ids = await create_world(runtime, [0.75] * 30, **ONE_SECOND_SLA)
    await asyncio.sleep(1.1)
    other_database = connect(database_url)
    try:
        other = Runtime(other_database)
        now = utcnow()
        results = await asyncio.gather(
            *(r.run(sweep_sla, now, 10) for r in (runtime, other, runtime, other)),
        )
        # Keep sweeping until nothing is left, from both sides.
        while sum(r.escalated for r in results[-2:]):
            results += await asyncio.gather(runtime.run(sweep_sla, now), other.run(sweep_sla, now))
    finally:
        await other_database.dispose()
    assert sum(r.escalated for r in results) == 30
    kinds = await event_kinds(database)
    assert all(kinds[(i, "ESCALATED")] == 1 for i in ids)
    assert {row.tier for row in (await rows(database, ids)).values()} == {"SENIOR_REVIEW"}


async def test_an_arq_worker_runs_the_sweep_job_against_real_redis(
    database, database_url, redis_url
):
    settings = make_settings(database_url, redis_url=redis_url)
    services = Services(settings, database)
    ids = await create_world(services, [0.8], **ONE_SECOND_SLA)
    await asyncio.sleep(1.1)
    job = Job.new(JobKind.SLA_SWEEP, utcnow())
    async with services.unit_of_work() as uow:
        await uow.jobs.add(job)
        await uow.commit()
    await services.jobs.enqueue(job.id)
    worker = create_worker(
        worker_settings(database_url, redis_url, runtime_options(settings)), burst=True
    )
    try:
        await worker.main()
    finally:
        await worker.close()
        await services.jobs.stop()
    async with database.read_engine.connect() as connection:
        stored = (await connection.execute(sa.select(jobs_t).where(jobs_t.c.id == job.id))).one()
    assert stored.state == JobState.SUCCEEDED.value
    assert stored.result["escalated"] == 1
    assert (await rows(database, ids))[ids[0]].tier == "SENIOR_REVIEW"
