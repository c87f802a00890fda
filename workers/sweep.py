"""The SLA_SWEEP job: SLA escalation, lapsed leases, jobs that were lost, and the drift
monitor (workers.drift).

Under arq it is a cron job of `arbiter worker`; embedded, a task of the API
process (workers.schedule runs it). Every tick creates an SLA_SWEEP job row, so
`job(id)` shows it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from domain.clock import utcnow
from domain.jobs import Job, JobKind
from domain.usecases.sla import BATCH, SweepResult, sweep_sla
from workers.drift import watch_drift
from workers.job_runtime import JobResult, JobRuntime, Report

log = logging.getLogger("arbiter.sweep")

KEEP_SWEEP_JOBS = timedelta(days=1)


async def run_sla_sweep(runtime: JobRuntime, job: Job, report: Report) -> JobResult:
    now = utcnow()
    total = SweepResult()
    while True:
        batch = await runtime.run(sweep_sla, now)
        total.add(batch)
        if batch.examined < BATCH or not (batch.escalated + batch.breached + batch.released):
            break
    recovered = await recover_lost_jobs(runtime)
    sealed = await runtime.sealer.seal_stragglers()
    drift = await _watch_drift(runtime, now)
    message = (
        f"escalated {total.escalated}, marked {total.breached} breached, "
        f"freed {total.released} lapsed leases"
        + (f"; re-enqueued {recovered} lost jobs" if recovered else "")
        + (f"; sealed {sealed} decisions left pending" if sealed else "")
        + (f"; raised {drift} drift alarms" if drift else "")
        + ("; the drift check failed" if drift is None else "")
    )
    return {
        "escalated": total.escalated,
        "breached": total.breached,
        "released": total.released,
        "recovered": recovered,
        "sealed": sealed,
        "drift_alarms": drift,
        "message": message,
    }


async def _watch_drift(runtime: JobRuntime, now: datetime) -> int | None:
    """How many drift alarms were raised; None when the check failed, which does not
    fail the sweep: its SLA work is done and committed, and the next sweep checks again."""
    try:
        return len(await watch_drift(runtime, now))
    except Exception:
        log.exception("the drift check failed; the next sweep checks again")
        return None


async def recover_lost_jobs(runtime: JobRuntime) -> int:
    """Re-enqueue work whose enqueue was lost (Redis down at the time, a crash); fail
    jobs whose worker stopped beating; forget old sweep jobs."""
    now = utcnow()
    stale_after = timedelta(seconds=runtime.options.job_stale_seconds)
    lost_after = timedelta(seconds=runtime.options.job_lost_after_seconds)
    async with runtime.unit_of_work() as uow:
        for job in await uow.jobs.running():
            if job.fail_if_stale(now, stale_after):
                await uow.jobs.save(job)
        await uow.jobs.delete_finished(JobKind.SLA_SWEEP, now - KEEP_SWEEP_JOBS)
        lost = await uow.jobs.lost(now - lost_after)
        await uow.commit()
    for job_id in lost:
        try:
            await runtime.jobs.enqueue(job_id, attempt=int(now.timestamp()))
        except Exception as error:
            log.warning("could not re-enqueue job %s (%s)", job_id, error)
            break
    return len(lost)
