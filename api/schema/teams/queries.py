"""teams."""

from __future__ import annotations

import strawberry

from api.schema.common.types import Info
from api.schema.teams.types import Team
from store.teams import TeamReads


@strawberry.type
class TeamQueries:
    @strawberry.field(
        description="Every team, by key, with its members and the workflows it reviews."
    )
    async def teams(self, info: Info) -> list[Team]:
        ctx = info.context
        found = await TeamReads.over(await ctx.reads()).teams()
        ctx.loaders.team.prime_many({t.id: t for t in found})
        return [Team.from_domain(t) for t in found]
