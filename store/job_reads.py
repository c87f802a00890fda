"""What the background jobs read, on a read session: the learning data, model versions,
jobs and draft outcomes. Reading here holds no write lock (SQLite's write transactions
take the whole database), however long a training set takes to stream."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from store.drafts import RecordedOutcome, outcome_rows
from store.drift import DriftReads
from store.jobs import SqlJobs
from store.learning import LearningReads
from store.models import SqlModels
from store.repositories import SqlWorkflows
from store.tables import workflows_t


class JobReads:
    """Read-only repositories over one read session (never committed)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.learning = LearningReads(session)
        self.models = SqlModels(session)
        self.jobs = SqlJobs(session)
        self.workflows = SqlWorkflows(session)
        self.drift = DriftReads(session)

    async def workflow_starts(self) -> list[tuple[str, datetime]]:
        """Every workflow's id and creation time."""
        result = await self.session.execute(sa.select(workflows_t.c.id, workflows_t.c.created_at))
        return [(row.id, row.created_at) for row in result]

    async def outcomes(self, workflow_id: str) -> list[RecordedOutcome]:
        """The workflow's shipped drafts with a recorded outcome, oldest first."""
        return await outcome_rows(self.session, workflow_id)
