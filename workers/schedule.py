"""Scheduled retraining: ARBITER_RETRAIN_CRON (default monthly, "0 3 1 * *"), skipped for
workflows with too few new corrections (ARBITER_RETRAIN_MIN_CORRECTIONS, default 50)."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from domain.clock import utcnow
from domain.jobs import Job, JobKind, JobState
from domain.learning import ModelKind
from store.learning import LearningReadModel
from store.tables import jobs_t, models_t, workflows_t
from workers.execute import execute_job

log = logging.getLogger("arbiter.schedule")

FIELDS = ("minute", "hour", "day", "month", "weekday")
RANGES = {"minute": (0, 59), "hour": (0, 23), "day": (1, 31), "month": (1, 12), "weekday": (0, 6)}


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


def matches(fields: dict[str, set[int] | None], moment: datetime) -> bool:
    values = {
        "minute": moment.minute,
        "hour": moment.hour,
        "day": moment.day,
        "month": moment.month,
        "weekday": moment.weekday(),
    }
    return all(allowed is None or values[name] in allowed for name, allowed in fields.items())


def next_fire(expression: str, after: datetime) -> datetime:
    """The first whole minute after `after` that the expression matches (within 5 years).

    Skips whole months, days and hours that cannot match, so it costs a few hundred
    steps at most rather than one per minute.
    """
    fields = parse_cron(expression)
    moment = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
    limit = moment + timedelta(days=5 * 366)

    def allowed(name: str, value: int) -> bool:
        values = fields[name]
        return values is None or value in values

    while moment < limit:
        if not allowed("month", moment.month):
            year, month = (
                (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
            )
            moment = moment.replace(year=year, month=month, day=1, hour=0, minute=0)
            continue
        if not (allowed("day", moment.day) and allowed("weekday", moment.weekday())):
            moment = (moment + timedelta(days=1)).replace(hour=0, minute=0)
            continue
        if not allowed("hour", moment.hour):
            moment = (moment + timedelta(hours=1)).replace(minute=0)
            continue
        if not allowed("minute", moment.minute):
            moment += timedelta(minutes=1)
            continue
        return moment
    raise ValueError(f"{expression!r} never fires")


async def due_workflows(runtime: Any) -> list[str]:
    """Workflows with enough new corrections since their latest classifier and no
    retraining already queued or running."""
    due = []
    async with runtime.read_session() as session:
        model = LearningReadModel(session)
        workflows = list(
            await session.execute(sa.select(workflows_t.c.id, workflows_t.c.created_at))
        )
        for workflow in workflows:
            latest = (
                await session.execute(
                    sa.select(sa.func.max(models_t.c.created_at)).where(
                        models_t.c.workflow_id == workflow.id,
                        models_t.c.kind == ModelKind.CLASSIFIER.value,
                    )
                )
            ).scalar_one()
            since = latest or workflow.created_at
            corrections = await model.corrections_between(workflow.id, since, None)
            if corrections < runtime.options.retrain_min_corrections:
                continue
            busy = (
                await session.execute(
                    sa.select(sa.func.count()).where(
                        jobs_t.c.kind == JobKind.RETRAIN.value,
                        jobs_t.c.state.in_([JobState.QUEUED.value, JobState.RUNNING.value]),
                        jobs_t.c.args["workflow_id"].as_string() == workflow.id,
                    )
                )
            ).scalar_one()
            if not busy:
                due.append(workflow.id)
    return due


async def scheduled_retraining(runtime: Any) -> list[str]:
    """Queue a RETRAIN job for each due workflow; returns the job ids."""
    jobs = [
        Job.new(JobKind.RETRAIN, utcnow(), workflow_id=w, scheduled=True)
        for w in await due_workflows(runtime)
    ]
    if not jobs:
        log.info("scheduled retraining: no workflow has enough new corrections")
        return []
    async with runtime.unit_of_work() as uow:
        for job in jobs:
            await uow.jobs.add(job)
        await uow.commit()
    for job in jobs:
        if runtime.embedded:
            await execute_job(runtime, job.id)
        else:
            await runtime.jobs.enqueue(job.id)
    return [job.id for job in jobs]


async def retrain_forever(runtime: Any) -> None:
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
