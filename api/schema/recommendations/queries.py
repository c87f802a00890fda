"""recommendation(id), queue(...)."""

from __future__ import annotations

import strawberry

from api.schema.common.enums import RecommendationStatus, Tier
from api.schema.common.problems import PublicError
from api.schema.common.types import Info, page_info
from api.schema.recommendations.types import (
    Recommendation,
    RecommendationConnection,
    RecommendationEdge,
)
from domain.enums import OPEN_STATUSES
from domain.errors import InvalidInputError


@strawberry.type
class RecommendationQueries:
    @strawberry.field
    async def recommendation(self, info: Info, id: strawberry.ID) -> Recommendation | None:
        ctx = info.context
        found = await ctx.loaders.recommendation.load(str(id))
        if found is None or not await ctx.sees(found.tier, found.workflow_id):
            return None
        return Recommendation.from_domain(found, ctx.now)

    @strawberry.field(
        description="A workflow's items in queue order (slaDueAt, then createdAt). statuses "
        "defaults to the open ones: PENDING, CLAIMED, FLAGGED, AWAITING_CONFIRMATION."
    )
    async def queue(
        self,
        info: Info,
        workflow: str,
        tiers: list[Tier] | None = None,
        statuses: list[RecommendationStatus] | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> RecommendationConnection:
        ctx = info.context
        model = await ctx.reads()
        found = await model.workflow_by_key(workflow)
        if found is None:
            raise PublicError(f"no workflow with key {workflow!r}", "NOT_FOUND")
        loaders = ctx.loaders
        loaders.workflow.prime(found.id, found)
        wanted_statuses = statuses or [s for s in RecommendationStatus if s in OPEN_STATUSES]
        try:
            page = await model.queue(
                found.id,
                await ctx.tiers_in(found.id, tiers),
                wanted_statuses,
                first,
                after,
                ctx.now,
            )
        except InvalidInputError as error:
            raise PublicError(error.message, "BAD_USER_INPUT") from error
        for _, item in page.items:  # nested fields that lead back to these items load nothing
            loaders.recommendation.prime(item.id, item)
        return RecommendationConnection(
            edges=[
                RecommendationEdge(cursor=cursor, node=Recommendation.from_domain(item, ctx.now))
                for cursor, item in page.items
            ],
            page_info=page_info(page),
            total_count=page.total,
        )
