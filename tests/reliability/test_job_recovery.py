"""The sweep's job recovery, with its timings from the settings (ARBITER_JOB_*).

A RUNNING job whose heartbeat is older than job_stale_seconds lost its worker: it
ends FAILED, saying so. A job still QUEUED job_lost_after_seconds after it was
created lost its enqueue: it is enqueued again. Fresher jobs are left alone.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from api.services import runtime_options
from api.settings import Settings
from domain.clock import utcnow
from domain.jobs import Job, JobKind, JobState
from store.tables import jobs_t
from workers.runtime import Runtime, RuntimeOptions
from workers.sweep import recover_lost_jobs


class RecordingJobs:
    """A job queue that remembers what was enqueued."""

    def __init__(self) -> None:
        self.enqueued: list[str] = []

    async def start(self, runner: object) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def enqueue(self, job_id: str, *, defer_seconds: float = 0, attempt: int = 0) -> None:
        self.enqueued.append(job_id)


async def _add(runtime: Runtime, job: Job) -> str:
    async with runtime.unit_of_work() as uow:
        await uow.jobs.add(job)
        await uow.commit()
    return job.id


async def _state(runtime: Runtime, job_id: str) -> tuple[str, str | None]:
    async with runtime.read_session() as session:
        row = (
            await session.execute(
                sa.select(jobs_t.c.state, jobs_t.c.message).where(jobs_t.c.id == job_id)
            )
        ).one()
    return row.state, row.message


def _running(age: timedelta) -> Job:
    now = utcnow()
    job = Job.new(JobKind.RETRAIN, now - age, workflow_id="wf")
    job.state, job.started_at, job.heartbeat_at = JobState.RUNNING, now - age, now - age
    return job


def test_the_job_timings_come_from_the_settings():
    options = runtime_options(
        Settings(job_heartbeat_seconds=1, job_stale_seconds=3, job_lost_after_seconds=5)
    )
    assert (
        options.job_heartbeat_seconds,
        options.job_stale_seconds,
        options.job_lost_after_seconds,
    ) == (1, 3, 5)
    defaults = runtime_options(Settings())
    assert (defaults.job_stale_seconds, defaults.job_lost_after_seconds) == (120, 60)
    with pytest.raises(ValueError, match="JOB_STALE_SECONDS"):
        Settings(job_heartbeat_seconds=10, job_stale_seconds=5)


async def test_a_silent_running_job_fails_and_a_lost_queued_job_is_enqueued_again(database):
    runtime = Runtime(
        database, options=RuntimeOptions(job_stale_seconds=3, job_lost_after_seconds=5)
    )
    jobs = RecordingJobs()
    runtime.jobs = jobs
    silent = await _add(runtime, _running(timedelta(seconds=4)))
    beating = await _add(runtime, _running(timedelta(seconds=1)))
    lost = await _add(
        runtime, Job.new(JobKind.RETRAIN, utcnow() - timedelta(seconds=6), workflow_id="wf")
    )
    recent = await _add(
        runtime, Job.new(JobKind.RETRAIN, utcnow() - timedelta(seconds=2), workflow_id="wf")
    )

    assert await recover_lost_jobs(runtime) == 1

    assert await _state(runtime, silent) == (
        "FAILED",
        "the worker running it stopped (no heartbeat)",
    )
    assert (await _state(runtime, beating))[0] == "RUNNING"
    assert jobs.enqueued == [lost]
    assert (await _state(runtime, lost))[0] == "QUEUED"
    assert (await _state(runtime, recent))[0] == "QUEUED"


async def test_with_the_default_timings_a_minute_old_job_is_not_yet_lost(database):
    runtime = Runtime(database)
    jobs = RecordingJobs()
    runtime.jobs = jobs
    running = await _add(runtime, _running(timedelta(seconds=90)))
    queued = await _add(
        runtime, Job.new(JobKind.RETRAIN, utcnow() - timedelta(seconds=50), workflow_id="wf")
    )
    assert await recover_lost_jobs(runtime) == 0
    assert jobs.enqueued == []
    assert (await _state(runtime, running))[0] == "RUNNING"
    assert (await _state(runtime, queued))[0] == "QUEUED"
