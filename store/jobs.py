"""Jobs: the rows that say what long work is queued, running or done. Never commits.

Which job may be claimed, and when a worker is presumed dead, are domain rules
(domain.jobs.Job); this module only loads, locks and saves jobs, and finds the
ones the sweep looks at.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from domain.jobs import FINISHED, UNFINISHED, Job, JobKind, JobState
from domain.webhooks import DeliveryStatus
from store.loading import load_all, load_first
from store.tables import JobRow, deliveries_t, jobs_t, values_of

# Kinds whose QUEUED jobs are re-enqueued once they waited too long; a delivery job
# waits for its delivery's next attempt instead.
_RESCHEDULED_BY_AGE = (JobKind.RETRAIN, JobKind.MINE_THEMES)


class SqlJobs:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.added: list[Job] = []

    async def add(self, job: Job) -> None:
        await self.add_many([job])

    async def add_many(self, jobs: Sequence[Job]) -> None:
        if not jobs:
            return
        await self.session.execute(jobs_t.insert(), [values_of(JobRow.of(j)) for j in jobs])
        self.added.extend(jobs)

    async def get(self, job_id: str, *, for_update: bool = False) -> Job | None:
        """The job; with `for_update`, its row stays locked until the transaction ends
        (SQLite's write transactions hold the whole database anyway)."""
        query = sa.select(JobRow).where(jobs_t.c.id == job_id)
        if for_update:
            query = query.with_for_update()
        row = await load_first(self.session, query)
        return row.to_domain() if row else None

    async def save(self, job: Job) -> None:
        values = values_of(JobRow.of(job))
        values.pop("id")
        await self.session.execute(jobs_t.update().where(jobs_t.c.id == job.id).values(values))

    async def beat(self, job_id: str, now: datetime) -> None:
        """Only the heartbeat: the worker running the job is alive."""
        await self.session.execute(
            jobs_t.update().where(jobs_t.c.id == job_id).values(heartbeat_at=now)
        )

    async def running(self) -> list[Job]:
        """Every RUNNING job not being written right now, locked for update."""
        query = sa.select(JobRow).where(jobs_t.c.state == JobState.RUNNING.value)
        locked = query.with_for_update(skip_locked=True)
        return [row.to_domain() for row in await load_all(self.session, locked)]

    async def delete_finished(self, kind: JobKind, created_before: datetime) -> None:
        """Forget finished jobs of this kind created before a time."""
        await self.session.execute(
            jobs_t.delete().where(
                jobs_t.c.kind == kind.value,
                jobs_t.c.state.in_([s.value for s in FINISHED]),
                jobs_t.c.created_at < created_before,
            )
        )

    async def lost(self, overdue_before: datetime) -> list[str]:
        """QUEUED jobs whose run should have started before `overdue_before` (their
        enqueue was lost): deliveries whose next attempt was due, and retraining or
        theme mining created by then."""
        queued = jobs_t.c.state == JobState.QUEUED.value
        overdue_deliveries = sa.select(jobs_t.c.id).where(
            jobs_t.c.kind == JobKind.WEBHOOK_DELIVERY.value,
            queued,
            jobs_t.c.args["delivery_id"]
            .as_string()
            .in_(
                sa.select(deliveries_t.c.id).where(
                    deliveries_t.c.status == DeliveryStatus.PENDING.value,
                    deliveries_t.c.next_attempt_at < overdue_before,
                )
            ),
        )
        overdue_others = sa.select(jobs_t.c.id).where(
            jobs_t.c.kind.in_([k.value for k in _RESCHEDULED_BY_AGE]),
            queued,
            jobs_t.c.created_at < overdue_before,
        )
        result = await self.session.execute(overdue_deliveries.union(overdue_others))
        return [row.id for row in result]

    async def has_unfinished(self, kind: JobKind, workflow_id: str) -> bool:
        """Whether a job of this kind for the workflow is queued or running."""
        count = await self.session.execute(
            sa.select(sa.func.count()).where(
                jobs_t.c.kind == kind.value,
                jobs_t.c.state.in_([s.value for s in UNFINISHED]),
                jobs_t.c.args["workflow_id"].as_string() == workflow_id,
            )
        )
        return bool(count.scalar_one())
