"""Running one job: claim it, beat a heartbeat, report progress, record how it ended.

The same function runs under arq and in-process. Whether a job may be claimed is
the domain's rule (`Job.claimable`), decided on the row locked for update: a job
that is already finished, or RUNNING with a fresh heartbeat elsewhere, is left
alone, so a second delivery of the same job (arq may run one twice) does nothing
and two workers never both run it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import timedelta

from domain.clock import utcnow
from domain.jobs import Job, JobKind, JobState
from domain.messages import MessageType, encode_job
from workers.bus import Envelope
from workers.job_runtime import Handler, JobResult, JobRuntime, RetryLater

log = logging.getLogger("arbiter.jobs")


def job_envelope(job: Job) -> Envelope:
    """A job's state and progress on the bus; each report gets an id of its own."""
    delivery_id = f"{job.id}:{job.state.value}:{job.progress:.4f}:{time.time_ns()}"
    return Envelope(MessageType.JOB, delivery_id, encode_job(job))


def handler_for(kind: JobKind) -> Handler | None:
    """The function that runs jobs of this kind (workers.handlers)."""
    # Not a cycle (no handler imports this module): the handlers load LightGBM and
    # scikit-learn, seconds of start-up that a process pays with its first job only.
    from workers.handlers import HANDLERS

    return HANDLERS.get(kind)


async def _change(
    runtime: JobRuntime, job_id: str, change: Callable[[Job], bool | None]
) -> Job | None:
    """Apply `change` to the job locked for update, in a short transaction of its own,
    and publish it; None if the job is gone or `change` returned False (nothing written)."""
    async with runtime.unit_of_work() as uow:
        job = await uow.jobs.get(job_id, for_update=True)
        if job is None or change(job) is False:
            return None
        await uow.jobs.save(job)
        await uow.commit()
    await runtime.publish([job_envelope(job)])
    return job


async def execute_job(runtime: JobRuntime, job_id: str) -> None:
    now = utcnow()
    stale_after = timedelta(seconds=runtime.options.job_stale_seconds)

    def claim(job: Job) -> bool:
        if not job.claimable(now, stale_after):
            return False
        job.start(now)
        return True

    job = await _change(runtime, job_id, claim)
    if job is None:
        return  # finished, unknown, or running elsewhere
    handler = handler_for(job.kind)
    if handler is None:
        await _finish(runtime, job, JobState.FAILED, f"no handler for {job.kind.value} jobs")
        return

    async def report(progress: float, message: str | None) -> None:
        await _change(runtime, job.id, lambda current: current.report(progress, message, utcnow()))

    beat = asyncio.create_task(_heartbeat(runtime, job.id))
    started = time.perf_counter()
    try:
        result = await handler(runtime, job, report)
    except RetryLater as retry:
        why = retry.message
        await _change(runtime, job.id, lambda current: current.requeue(why))
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
        runtime.observe_job(job.kind.value, time.perf_counter() - started)
    message = (result or {}).get("message") if isinstance(result, dict) else None
    await _finish(runtime, job, JobState.SUCCEEDED, message, result)


async def _finish(
    runtime: JobRuntime,
    job: Job,
    state: JobState,
    message: str | None,
    result: JobResult | None = None,
) -> None:
    await _change(runtime, job.id, lambda current: current.finish(state, message, utcnow(), result))


async def _heartbeat(runtime: JobRuntime, job_id: str) -> None:
    while True:
        await asyncio.sleep(runtime.options.job_heartbeat_seconds)
        with contextlib.suppress(Exception):
            async with runtime.unit_of_work() as uow:
                await uow.jobs.beat(job_id, utcnow())
                await uow.commit()
