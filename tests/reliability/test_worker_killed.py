"""An arq worker killed (SIGKILL) in the middle of a retraining job.

The job must not stay RUNNING: once its heartbeat is older than
ARBITER_JOB_STALE_SECONDS the sweep of the next worker ends it FAILED, saying
why; starting the retraining again then succeeds on the fresh worker. There is
never more than one ACTIVE model, and no job is left RUNNING.

Uses a redis-server of its own (the shared one's databases are flushed by other
tests) and a fresh PostgreSQL database.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from domain.enums import ReviewerRole, Role, Verdict, WorkflowKind
from domain.usecases.accounts import create_user
from domain.usecases.decide import DecisionRequest, decide
from domain.usecases.learning import start_retraining
from domain.usecases.submission import ProposalInput, submit_recommendations
from domain.usecases.workflows import WorkflowSpec, create_workflow
from ml.worlds import generate_world
from store.database import connect
from store.tables import jobs_t, models_t
from tests.live.conftest import free_port
from tests.live.test_replicas_and_redis_faults import own_redis, wait_for_redis
from tests.reliability.cluster import ARBITER, ROOT, env_int
from workers.runtime import Runtime

CASES = env_int("ARBITER_RELIABILITY_TRAINING_CASES", 1500)
HEARTBEAT, STALE, SWEEP = 0.5, 3.0, 1.0


@contextlib.asynccontextmanager
async def arbiter_worker(
    database_url: str, redis_url: str, log: Path
) -> AsyncIterator[asyncio.subprocess.Process]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ARBITER_")}
    env |= {
        "ARBITER_DATABASE_URL": database_url,
        "ARBITER_REDIS_URL": redis_url,
        "ARBITER_SLA_SWEEP_SECONDS": str(SWEEP),
        "ARBITER_JOB_HEARTBEAT_SECONDS": str(HEARTBEAT),
        "ARBITER_JOB_STALE_SECONDS": str(STALE),
        "ARBITER_TRAINING_THREADS": "1",
    }
    with log.open("wb") as stderr:
        process = await asyncio.create_subprocess_exec(
            ARBITER,
            "worker",
            env=env,
            cwd=ROOT,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 20)
            except TimeoutError:
                process.kill()
                await process.wait()


async def _decided_world(runtime: Runtime) -> Any:
    """A workflow whose reviewer corrected its upstream model: CASES labelled decisions."""
    admin, _ = await runtime.run(create_user, None, "ada", Role.ADMIN)
    reviewer, _ = await runtime.run(create_user, None, "rita", Role.SENIOR)
    await runtime.run(
        create_workflow,
        admin,
        WorkflowSpec(
            "loans",
            "Loans",
            WorkflowKind.CLASSIFICATION,
            ReviewerRole.EXPERT,
            ["approve", "decline"],
            policy_changes={"auto_approve_at": 1.0, "analyst_at": 0.0, "senior_at": 0.0},
        ),
    )
    cases = generate_world(CASES, 11, "young_healthcare")
    recommendations: list[Any] = []
    for first in range(0, len(cases), 500):
        batch = await runtime.run(
            submit_recommendations,
            admin,
            "loans",
            [
                ProposalInput(c.payload, c.upstream_action, c.upstream_confidence)
                for c in cases[first : first + 500]
            ],
        )
        recommendations += batch.recommendations
    ttl = timedelta(minutes=5)
    gate = asyncio.Semaphore(6)

    async def one(item: Any, case: Any) -> None:
        if case.true_action == case.upstream_action:
            request = DecisionRequest(item.id, Verdict.APPROVE)
        else:
            request = DecisionRequest(
                item.id, Verdict.OVERRIDE, action=case.true_action, reason=case.reason or "wrong"
            )
        async with gate:
            await runtime.run(decide, reviewer, request, ttl)

    await asyncio.gather(*(one(i, c) for i, c in zip(recommendations, cases, strict=True)))
    return admin


async def _job(runtime: Runtime, job_id: str) -> Any:
    async with runtime.read_session() as session:
        return (await session.execute(sa.select(jobs_t).where(jobs_t.c.id == job_id))).one()


async def _active_models(runtime: Runtime) -> int:
    async with runtime.read_session() as session:
        return int(
            (
                await session.execute(
                    sa.select(sa.func.count()).where(models_t.c.status == "ACTIVE")
                )
            ).scalar_one()
        )


async def _wait_for_lock_waiter(
    connection: Any, runtime: Runtime, job_id: str, timeout: float
) -> None:
    """Until another session waits for a lock on model_versions (the job, storing its model)."""
    deadline = time.monotonic() + timeout
    query = sa.text(
        "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
        "WHERE c.relname = 'model_versions' AND NOT l.granted"
    )
    while not (await connection.execute(query)).scalar_one():
        job = await _job(runtime, job_id)
        assert job.state == "RUNNING", f"the job ended before storing its model: {job.message}"
        assert time.monotonic() < deadline, "the job never reached the point of storing its model"
        await asyncio.sleep(0.05)


async def _wait(runtime: Runtime, job_id: str, done: Any, timeout: float, every: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        row = await _job(runtime, job_id)
        assert await _active_models(runtime) <= 1, "two ACTIVE models"
        if done(row):
            return row
        assert time.monotonic() < deadline, f"job {job_id} stuck: {row.state} {row.message}"
        await asyncio.sleep(every)


async def test_a_worker_killed_mid_retraining_leaves_a_failed_job_and_one_active_model(
    fresh_pg: str, tmp_path: Path
):
    port = free_port()
    redis_url = f"redis://127.0.0.1:{port}/0"
    with own_redis(port):
        await wait_for_redis(port)
        database = connect(fresh_pg, pool_size=8, max_overflow=0)
        runtime = Runtime(database, redis_url)  # enqueues onto arq; runs no jobs itself
        try:
            admin = await _decided_world(runtime)
            # The test holds a lock that stops the job as it writes its trained model, so
            # that the kill lands mid-job every time (training itself takes < 1 s here).
            blocker = create_async_engine(fresh_pg, pool_size=1, max_overflow=0)
            async with blocker.connect() as lock:
                await lock.execute(sa.text("LOCK TABLE model_versions IN EXCLUSIVE MODE"))
                async with arbiter_worker(fresh_pg, redis_url, tmp_path / "first.stderr") as first:
                    job = await runtime.run(start_retraining, admin, "loans")
                    running = await _wait(
                        runtime,
                        job.id,
                        lambda r: r.state != "QUEUED",
                        timeout=120,
                    )
                    await _wait_for_lock_waiter(lock, runtime, job.id, timeout=120)
                    running = await _job(runtime, job.id)
                    first.send_signal(signal.SIGKILL)
                    killed_at = time.monotonic()
                    assert await first.wait() == -signal.SIGKILL
                await lock.rollback()
            await blocker.dispose()
            assert running.state == "RUNNING", (running.state, running.message)
            assert (await _job(runtime, job.id)).state == "RUNNING"  # nobody ended it

            async with arbiter_worker(fresh_pg, redis_url, tmp_path / "second.stderr"):
                failed = await _wait(
                    runtime, job.id, lambda r: r.state != "RUNNING", timeout=STALE + 60
                )
                recovered_in = time.monotonic() - killed_at
                assert failed.state == "FAILED", (failed.state, failed.message)
                assert "stopped" in failed.message and "heartbeat" in failed.message
                assert await _active_models(runtime) == 0

                again = await runtime.run(start_retraining, admin, "loans")
                started = time.monotonic()
                finished = await _wait(
                    runtime, again.id, lambda r: r.state in ("SUCCEEDED", "FAILED"), timeout=240
                )
                assert finished.state == "SUCCEEDED", (finished.state, finished.message)
                trained_in = time.monotonic() - started
            assert await _active_models(runtime) == 1
            async with runtime.read_session() as session:
                states = dict((await session.execute(sa.select(jobs_t.c.id, jobs_t.c.state))).all())
            assert "RUNNING" not in states.values(), states
        finally:
            await runtime.jobs.stop()
            await database.dispose()
    print(
        f"\n[worker killed] cases={CASES}, killed at progress {running.progress:.2f} "
        f"({running.message}); FAILED {recovered_in:.1f}s after the kill "
        f"(stale after {STALE:.0f}s, sweep every {SWEEP:.0f}s); "
        f"retraining again succeeded in {trained_in:.1f}s"
    )
