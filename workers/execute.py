"""Running one job: claim it, beat a heartbeat, report progress, record how it ended.

The same function runs under arq and in-process. A job that is already
finished, or RUNNING with a fresh heartbeat elsewhere, is left alone, so a
second delivery of the same job (arq may run one twice) does nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from domain.clock import utcnow
from domain.jobs import Job, JobKind, JobState
from domain.messages import MessageType, encode_job
from store import mappers
from store.tables import jobs_t
from workers.bus import Envelope

log = logging.getLogger("arbiter.jobs")

Report = Callable[[float, str | None], Awaitable[None]]
Handler = Callable[[Any, Job, Report], Awaitable[dict[str, Any] | None]]


class RetryLater(Exception):
    """The job goes back to QUEUED; with a `delay`, it is enqueued again to run then.

    Without one, a run is already scheduled (this was a duplicate delivery of the
    job) and nothing more is enqueued.
    """

    def __init__(self, delay: float | None, message: str, attempt: int = 0) -> None:
        super().__init__(message)
        self.delay = delay
        self.message = message
        self.attempt = attempt


def job_envelope(job: Job) -> Envelope:
    """A job's state and progress on the bus; each report gets an id of its own."""
    delivery_id = f"{job.id}:{job.state.value}:{job.progress:.4f}:{time.time_ns()}"
    return Envelope(MessageType.JOB, delivery_id, encode_job(job))


def handlers() -> dict[JobKind, Handler]:
    from workers.retrain import run_retraining
    from workers.sweep import run_sla_sweep
    from workers.themes_job import run_theme_mining
    from workers.webhook_delivery import deliver

    return {
        JobKind.SLA_SWEEP: run_sla_sweep,
        JobKind.WEBHOOK_DELIVERY: deliver,
        JobKind.RETRAIN: run_retraining,
        JobKind.MINE_THEMES: run_theme_mining,
    }


async def _update(runtime: Any, job_id: str, condition: Any = None, **values: Any) -> Job | None:
    """Write job fields in a short transaction of their own; None if `condition` failed."""
    async with runtime.unit_of_work() as uow:
        statement = jobs_t.update().where(jobs_t.c.id == job_id)
        if condition is not None:
            statement = statement.where(condition)
        result: Any = await uow.session.execute(statement.values(**values))
        if result.rowcount != 1:
            return None
        row = (await uow.session.execute(sa.select(jobs_t).where(jobs_t.c.id == job_id))).one()
        await uow.commit()
    job = mappers.job(row)
    await runtime.publish([job_envelope(job)])
    return job


async def execute_job(runtime: Any, job_id: str) -> None:
    now = utcnow()
    stale = now - timedelta(seconds=runtime.options.job_stale_seconds)
    claimable = (jobs_t.c.state == JobState.QUEUED.value) | (
        (jobs_t.c.state == JobState.RUNNING.value) & (jobs_t.c.heartbeat_at < stale)
    )
    job = await _update(
        runtime,
        job_id,
        claimable,
        state=JobState.RUNNING.value,
        started_at=now,
        heartbeat_at=now,
        attempts=jobs_t.c.attempts + 1,
    )
    if job is None:
        return  # finished, unknown, or running elsewhere
    handler = handlers().get(job.kind)
    if handler is None:
        await _finish(runtime, job, JobState.FAILED, f"no handler for {job.kind.value} jobs")
        return

    async def report(progress: float, message: str | None) -> None:
        await _update(
            runtime,
            job.id,
            progress=max(0.0, min(1.0, progress)),
            message=message,
            heartbeat_at=utcnow(),
        )

    beat = asyncio.create_task(_heartbeat(runtime, job.id))
    started = time.perf_counter()
    try:
        result = await handler(runtime, job, report)
    except RetryLater as retry:
        await _update(runtime, job.id, state=JobState.QUEUED.value, message=retry.message)
        if retry.delay is not None:
            try:
                await runtime.jobs.enqueue(job.id, defer_seconds=retry.delay, attempt=retry.attempt)
            except Exception as error:  # the sweep re-enqueues overdue work
                log.warning("could not schedule job %s again (%s)", job.id, error)
        return
    except asyncio.CancelledError:
        await _finish(runtime, job, JobState.FAILED, "cancelled (the process stopped)")
        raise
    except Exception as error:
        log.exception("job %s (%s) failed", job.id, job.kind.value)
        await _finish(runtime, job, JobState.FAILED, f"{type(error).__name__}: {error}")
        return
    finally:
        beat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beat
        observe = getattr(runtime, "observe_job", None)
        if observe is not None:
            observe(job.kind.value, time.perf_counter() - started)
    message = (result or {}).get("message") if isinstance(result, dict) else None
    await _finish(runtime, job, JobState.SUCCEEDED, message, result)


async def _finish(
    runtime: Any,
    job: Job,
    state: JobState,
    message: str | None,
    result: dict[str, Any] | None = None,
) -> None:
    await _update(
        runtime,
        job.id,
        state=state.value,
        message=message,
        result=result,
        progress=1.0 if state is JobState.SUCCEEDED else jobs_t.c.progress,
        finished_at=utcnow(),
    )


async def _heartbeat(runtime: Any, job_id: str) -> None:
    while True:
        await asyncio.sleep(runtime.options.job_heartbeat_seconds)
        with contextlib.suppress(Exception):
            async with runtime.unit_of_work() as uow:
                await uow.session.execute(
                    jobs_t.update().where(jobs_t.c.id == job_id).values(heartbeat_at=utcnow())
                )
                await uow.commit()
