"""workflows, workflow(key)."""

from __future__ import annotations

import strawberry

from api.schema.common.types import Info
from api.schema.workflows.types import Workflow


@strawberry.type
class WorkflowQueries:
    @strawberry.field
    async def workflows(self, info: Info) -> list[Workflow]:
        model = await info.context.reads()
        return [Workflow.from_domain(w) for w in await model.workflows()]

    @strawberry.field
    async def workflow(self, info: Info, key: str) -> Workflow | None:
        found = await (await info.context.reads()).workflow_by_key(key)
        return Workflow.from_domain(found) if found else None
