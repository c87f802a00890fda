"""Job, JobKind, JobState."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.schema.common.enums import JobKind, JobState
from api.schema.common.types import JSON, Node
from domain import jobs


@strawberry.type(name="Job")
class Job(Node):
    id: strawberry.ID
    kind: JobKind
    state: JobState
    progress: float
    message: str | None
    result: JSON | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def from_domain(cls, job: jobs.Job) -> Job:
        return cls(
            id=strawberry.ID(job.id),
            kind=job.kind,
            state=job.state,
            progress=job.progress,
            message=job.message,
            result=JSON(job.result),
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
        )
