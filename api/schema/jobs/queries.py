"""job(id)."""

from __future__ import annotations

import strawberry

from api.schema.common.types import Info
from api.schema.jobs.types import Job
from domain.enums import Role


@strawberry.type
class JobQueries:
    @strawberry.field(description="ADMIN: a background job by id (null for other roles).")
    async def job(self, info: Info, id: strawberry.ID) -> Job | None:
        if info.context.viewer.role is not Role.ADMIN:
            return None
        found = await (await info.context.reads()).job(str(id))
        return Job.from_domain(found) if found else None
