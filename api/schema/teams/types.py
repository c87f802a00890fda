"""Team, and the results of the team mutations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from api.schema.common.problems import Conflict, Forbidden, InvalidInput, NotFound
from api.schema.common.types import Info, Node
from api.schema.users.types import User
from api.schema.workflows.types import Workflow
from domain import model
from domain.teams import Team as DomainTeam


@strawberry.type(name="Team", description="People who review the workflows that name them.")
class Team(Node):
    id: strawberry.ID
    key: str
    name: str
    created_at: datetime
    _team: strawberry.Private[DomainTeam]

    @strawberry.field
    async def members(self, info: Info) -> list[User]:
        found = await info.context.loaders.user.load_many(self._team.member_ids)
        return sorted((User.from_domain(u) for u in found if u is not None), key=lambda u: u.name)

    @strawberry.field(description="The workflows this team reviews.")
    async def workflows(self, info: Info) -> list[Workflow]:
        loaders = info.context.loaders
        ids = await loaders.workflow_ids_of_team.load(self._team.id)
        found = await loaders.workflow.load_many(ids)
        return sorted(
            (Workflow.from_domain(w) for w in found if w is not None), key=lambda w: w.key
        )

    @classmethod
    def from_domain(cls, team: DomainTeam) -> Team:
        return cls(
            id=strawberry.ID(team.id),
            key=team.key,
            name=team.name,
            created_at=team.created_at,
            _team=team,
        )


async def load_teams(info: Info, team_ids: list[str] | tuple[str, ...]) -> list[Team]:
    """Teams by id, by key; ids of deleted teams are left out."""
    found = await info.context.loaders.team.load_many(list(team_ids))
    return sorted((Team.from_domain(t) for t in found if t is not None), key=lambda t: t.key)


async def load_team(info: Info, team_id: str | None) -> Team | None:
    if team_id is None:
        return None
    found = await info.context.loaders.team.load(team_id)
    return Team.from_domain(found) if found else None


async def teams_of_user(info: Info, user: model.User) -> list[Team]:
    ids = await info.context.loaders.team_ids_of_user.load(user.id)
    return await load_teams(info, ids)


@strawberry.type
class TeamSuccess:
    team: Team


TeamResult = Annotated[
    TeamSuccess | NotFound | Forbidden | InvalidInput | Conflict, strawberry.union("TeamResult")
]
