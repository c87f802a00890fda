"""decisions(...), overrides(...): the log, in order, as connections."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

import strawberry

from api.schema.common.problems import PublicError
from api.schema.common.types import Info, page_info
from api.schema.decisions.types import (
    Decision,
    DecisionConnection,
    DecisionEdge,
    Override,
    OverrideConnection,
    OverrideEdge,
)
from domain.errors import InvalidInputError
from store.queries import Page, Reads

T = TypeVar("T")


async def _page(
    info: Info, workflow: str, fetch: Callable[[Reads, str], Awaitable[Page[T]]]
) -> Page[T]:
    model = await info.context.reads()
    found = await model.workflow_by_key(workflow)
    if found is None:
        raise PublicError(f"no workflow with key {workflow!r}", "NOT_FOUND")
    try:
        return await fetch(model, found.id)
    except InvalidInputError as error:
        raise PublicError(error.message, "BAD_USER_INPUT") from error


@strawberry.type
class DecisionQueries:
    @strawberry.field(description="The decision log of a workflow, in chain order.")
    async def decisions(
        self,
        info: Info,
        workflow: str,
        since: datetime | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> DecisionConnection:
        async def fetch(model: Reads, workflow_id: str) -> Page[Any]:
            ctx = info.context
            tiers = await ctx.tiers_in(workflow_id)
            blind_to = await ctx.blind_to(workflow_id)
            return await model.decisions_page(workflow_id, tiers, since, first, after, blind_to)

        page = await _page(info, workflow, fetch)
        return DecisionConnection(
            edges=[DecisionEdge(cursor=c, node=Decision.from_domain(d)) for c, d in page.items],
            page_info=page_info(page),
            total_count=page.total,
        )

    @strawberry.field(description="A workflow's overrides, oldest first.")
    async def overrides(
        self,
        info: Info,
        workflow: str,
        since: datetime | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> OverrideConnection:
        async def fetch(model: Reads, workflow_id: str) -> Page[Any]:
            tiers = await info.context.tiers_in(workflow_id)
            return await model.overrides_page(workflow_id, tiers, since, first, after)

        page = await _page(info, workflow, fetch)
        return OverrideConnection(
            edges=[OverrideEdge(cursor=c, node=Override.from_domain(o)) for c, o in page.items],
            page_info=page_info(page),
            total_count=page.total,
        )
