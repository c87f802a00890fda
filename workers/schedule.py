"""The periodic work: the SLA sweep every ARBITER_SLA_SWEEP_SECONDS, and retraining on
ARBITER_RETRAIN_CRON (default monthly, "0 3 1 * *"), skipped for workflows with too few
new corrections (ARBITER_RETRAIN_MIN_CORRECTIONS, default 50).

The cron expression is parsed here into arq's cron fields; arq's cron runs them under
`arbiter worker`, and arq's `next_cron` says when the embedded scheduler fires next.
"""

from __future__ import annotations

import asyncio
import calendar
import logging
from datetime import datetime, timedelta
from typing import TypedDict

from arq.cron import next_cron

from domain.clock import utcnow
from domain.jobs import Job, JobKind
from domain.learning import ModelKind
from workers.execute import execute_job
from workers.job_runtime import JobRuntime

log = logging.getLogger("arbiter.schedule")

FIELDS = ("minute", "hour", "day", "month", "weekday")
RANGES = {"minute": (0, 59), "hour": (0, 23), "day": (1, 31), "month": (1, 12), "weekday": (0, 6)}
HORIZON = timedelta(days=5 * 366)  # an expression that fires no sooner "never fires"
LEAP_YEAR = 2000  # every (month, day) that exists in some year exists in this one


class CronFields(TypedDict, total=False):
    """Keyword arguments of arq's `cron` and `next_cron`: the fields that are not `*`."""

    month: set[int]
    day: set[int]
    weekday: set[int]
    hour: set[int]
    minute: set[int]
    second: int | set[int]


def parse_cron(expression: str) -> dict[str, set[int] | None]:
    """Five fields (minute hour day month weekday; weekday 0 = Monday as arq counts);
    each *, a number, a list a,b, a range a-b, or a step */n. None means any."""
    parts = expression.split()
    if len(parts) != 5:
        raise ValueError(f"a cron expression has 5 fields, not {len(parts)}: {expression!r}")
    parsed: dict[str, set[int] | None] = {}
    for name, part in zip(FIELDS, parts, strict=True):
        low, high = RANGES[name]
        if part == "*":
            parsed[name] = None
            continue
        values: set[int] = set()
        for item in part.split(","):
            base, _, step_text = item.partition("/")
            step = int(step_text) if step_text else 1
            if base == "*":
                start, end = low, high
            elif "-" in base:
                start, end = (int(x) for x in base.split("-", 1))
            else:
                start = end = int(base)
            if not low <= start <= end <= high or step < 1:
                raise ValueError(f"{name} out of range in {expression!r}")
            values.update(range(start, end + 1, step))
        parsed[name] = values
    return parsed


def arq_cron(expression: str) -> CronFields:
    """arq cron fields for a five-field cron expression, at second 0."""
    parsed = parse_cron(expression)
    fields = CronFields(second=0)
    if (minute := parsed["minute"]) is not None:
        fields["minute"] = minute
    if (hour := parsed["hour"]) is not None:
        fields["hour"] = hour
    if (day := parsed["day"]) is not None:
        fields["day"] = day
    if (month := parsed["month"]) is not None:
        fields["month"] = month
    if (weekday := parsed["weekday"]) is not None:
        fields["weekday"] = weekday
    return fields


def next_fire(expression: str, after: datetime) -> datetime:
    """The first whole minute after `after` that the expression matches (within 5 years)."""
    fields = arq_cron(expression)
    days, months = fields.get("day"), fields.get("month", range(1, 13))
    # arq's next_cron would look for a day that no month has (the 31st of February) forever.
    if days is not None and not any(
        day <= calendar.monthrange(LEAP_YEAR, month)[1] for month in months for day in days
    ):
        raise ValueError(f"{expression!r} never fires")
    moment = next_cron(after, **fields, microsecond=0)
    if moment >= after.replace(second=0, microsecond=0) + timedelta(minutes=1) + HORIZON:
        raise ValueError(f"{expression!r} never fires")
    return moment


async def due_workflows(runtime: JobRuntime) -> list[str]:
    """Workflows with enough new corrections since their latest classifier and no
    retraining already queued or running."""
    due = []
    async with runtime.job_reads() as reads:
        for workflow_id, created_at in await reads.workflow_starts():
            latest = await reads.models.latest_created_at(workflow_id, ModelKind.CLASSIFIER)
            since = latest or created_at
            corrections = await reads.learning.corrections_between(workflow_id, since, None)
            if corrections < runtime.options.retrain_min_corrections:
                continue
            if not await reads.jobs.has_unfinished(JobKind.RETRAIN, workflow_id):
                due.append(workflow_id)
    return due


async def scheduled_retraining(runtime: JobRuntime) -> list[str]:
    """Queue a RETRAIN job for each due workflow; returns the job ids."""
    jobs = [
        Job.new(JobKind.RETRAIN, utcnow(), workflow_id=w, scheduled=True)
        for w in await due_workflows(runtime)
    ]
    if not jobs:
        log.info("scheduled retraining: no workflow has enough new corrections")
        return []
    async with runtime.unit_of_work() as uow:
        await uow.jobs.add_many(jobs)
        await uow.commit()
    for job in jobs:
        if runtime.embedded:
            await execute_job(runtime, job.id)
        else:
            await runtime.jobs.enqueue(job.id)
    return [job.id for job in jobs]


async def retrain_forever(runtime: JobRuntime) -> None:
    """The embedded schedule: sleep until the cron fires, retrain what is due, repeat."""
    while True:
        wait = (next_fire(runtime.options.retrain_cron, utcnow()) - utcnow()).total_seconds()
        await asyncio.sleep(max(1.0, wait))
        try:
            await scheduled_retraining(runtime)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("scheduled retraining failed; trying again at the next tick")


async def sweep_once(runtime: JobRuntime) -> str:
    """Create an SLA_SWEEP job and run it here; returns its id."""
    job = Job.new(JobKind.SLA_SWEEP, utcnow())
    async with runtime.unit_of_work() as uow:
        await uow.jobs.add(job)
        await uow.commit()
    await execute_job(runtime, job.id)
    return job.id


SWEEP_STOP_GRACE_SECONDS = 10.0
"""How long a stopping process waits for a sweep under way to end and record its outcome."""


async def sweep_forever(runtime: JobRuntime) -> None:
    """The embedded sweep: every ARBITER_SLA_SWEEP_SECONDS.

    Stopping the process lets a sweep under way finish (within SWEEP_STOP_GRACE_SECONDS),
    so that a routine shutdown does not leave a sweep recorded as FAILED.
    """
    while True:
        await asyncio.sleep(runtime.options.sla_sweep_seconds)
        sweep = asyncio.ensure_future(sweep_once(runtime))
        try:
            await asyncio.shield(sweep)
        except asyncio.CancelledError:
            done, _ = await asyncio.wait({sweep}, timeout=SWEEP_STOP_GRACE_SECONDS)
            if not done:
                sweep.cancel()
            elif not sweep.cancelled() and sweep.exception() is not None:
                log.warning("SLA sweep failed while stopping: %s", sweep.exception())
            raise
        except Exception:
            log.exception("SLA sweep failed; trying again next tick")
