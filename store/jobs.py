"""Jobs: the rows that say what long work is queued, running or done. Never commits."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from domain.jobs import Job
from store import mappers
from store.tables import jobs_t


class SqlJobs:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.added: list[Job] = []

    async def add(self, job: Job) -> None:
        await self.add_many([job])

    async def add_many(self, jobs: Sequence[Job]) -> None:
        if not jobs:
            return
        await self.session.execute(jobs_t.insert(), [mappers.job_row(j) for j in jobs])
        self.added.extend(jobs)

    async def get(self, job_id: str) -> Job | None:
        row = (await self.session.execute(sa.select(jobs_t).where(jobs_t.c.id == job_id))).first()
        return mappers.job(row) if row else None

    async def save(self, job: Job) -> None:
        values = mappers.job_row(job)
        values.pop("id")
        await self.session.execute(jobs_t.update().where(jobs_t.c.id == job.id).values(**values))
