"""The periodic sweep: SLA escalation, lapsed leases, and jobs that were lost.

Under arq it is a cron job of `arbiter worker`; embedded, a task of the API
process. Every tick creates an SLA_SWEEP job row, so `job(id)` shows it.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from domain.clock import utcnow
from domain.jobs import Job, JobKind, JobState
from domain.usecases.sla import BATCH, SweepResult, sweep_sla
from domain.webhooks import DeliveryStatus
from store.tables import deliveries_t, jobs_t
from workers.execute import Report, execute_job

log = logging.getLogger("arbiter.sweep")

KEEP_SWEEP_JOBS = timedelta(days=1)


async def run_sla_sweep(runtime: Any, job: Job, report: Report) -> dict[str, Any]:
    now = utcnow()
    total = SweepResult()
    while True:
        batch = await runtime.run(sweep_sla, now)
        total.add(batch)
        if batch.examined < BATCH or not (batch.escalated + batch.breached + batch.released):
            break
    recovered = await recover_lost_jobs(runtime)
    message = (
        f"escalated {total.escalated}, marked {total.breached} breached, "
        f"freed {total.released} lapsed leases"
        + (f"; re-enqueued {recovered} lost jobs" if recovered else "")
    )
    return {
        "escalated": total.escalated,
        "breached": total.breached,
        "released": total.released,
        "recovered": recovered,
        "message": message,
    }


async def recover_lost_jobs(runtime: Any) -> int:
    """Re-enqueue work whose enqueue was lost (Redis down at the time, a crash); fail
    jobs whose worker stopped beating; forget old sweep jobs."""
    now = utcnow()
    stale = now - timedelta(seconds=runtime.options.job_stale_seconds)
    lost_after = timedelta(seconds=runtime.options.job_lost_after_seconds)
    async with runtime.unit_of_work() as uow:
        session = uow.session
        await session.execute(
            jobs_t.update()
            .where(jobs_t.c.state == JobState.RUNNING.value, jobs_t.c.heartbeat_at < stale)
            .values(
                state=JobState.FAILED.value,
                finished_at=now,
                message="the worker running it stopped (no heartbeat)",
            )
        )
        await session.execute(
            jobs_t.delete().where(
                jobs_t.c.kind == JobKind.SLA_SWEEP.value,
                jobs_t.c.state.in_([JobState.SUCCEEDED.value, JobState.FAILED.value]),
                jobs_t.c.created_at < now - KEEP_SWEEP_JOBS,
            )
        )
        overdue_deliveries = sa.select(jobs_t.c.id).where(
            jobs_t.c.kind == JobKind.WEBHOOK_DELIVERY.value,
            jobs_t.c.state == JobState.QUEUED.value,
            jobs_t.c.args["delivery_id"]
            .as_string()
            .in_(
                sa.select(deliveries_t.c.id).where(
                    deliveries_t.c.status == DeliveryStatus.PENDING.value,
                    deliveries_t.c.next_attempt_at < now - lost_after,
                )
            ),
        )
        other_queued = sa.select(jobs_t.c.id).where(
            jobs_t.c.kind.in_([JobKind.RETRAIN.value, JobKind.MINE_THEMES.value]),
            jobs_t.c.state == JobState.QUEUED.value,
            jobs_t.c.created_at < now - lost_after,
        )
        lost = [row.id for row in await session.execute(overdue_deliveries.union(other_queued))]
        await uow.commit()
    for job_id in lost:
        try:
            await runtime.jobs.enqueue(job_id, attempt=int(now.timestamp()))
        except Exception as error:
            log.warning("could not re-enqueue job %s (%s)", job_id, error)
            break
    return len(lost)


async def sweep_once(runtime: Any) -> str:
    """Create an SLA_SWEEP job and run it here; returns its id."""
    job = Job.new(JobKind.SLA_SWEEP, utcnow())
    async with runtime.unit_of_work() as uow:
        await uow.jobs.add(job)
        await uow.commit()
    await execute_job(runtime, job.id)
    return job.id


async def sweep_forever(runtime: Any) -> None:
    """The embedded sweep: every ARBITER_SLA_SWEEP_SECONDS."""
    while True:
        await asyncio.sleep(runtime.options.sla_sweep_seconds)
        try:
            await sweep_once(runtime)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("SLA sweep failed; trying again next tick")
