"""Teams, their members, and the workflows they review. Never commits."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from domain.teams import Team
from store.loading import FRESH, load_all, load_first
from store.tables import TeamRow, team_members_t, teams_t, values_of, workflow_teams_t


class SqlTeams:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, team: Team) -> None:
        await self.session.execute(teams_t.insert().values(values_of(TeamRow.of(team))))
        await self.set_members(team.id, team.member_ids)

    async def set_members(self, team_id: str, user_ids: Sequence[str]) -> None:
        await self.session.execute(
            team_members_t.delete().where(team_members_t.c.team_id == team_id)
        )
        if user_ids:
            await self.session.execute(
                team_members_t.insert(),
                [{"team_id": team_id, "user_id": user_id} for user_id in dict.fromkeys(user_ids)],
            )

    async def by_keys(self, keys: Sequence[str]) -> dict[str, Team]:
        """The teams with these keys (by key), members included; unknown keys are absent."""
        if not keys:
            return {}
        rows = await load_all(self.session, sa.select(TeamRow).where(teams_t.c.key.in_(keys)))
        members = await self._members([row.id for row in rows])
        return {row.key: row.to_domain(members.get(row.id, [])) for row in rows}

    async def by_key(self, key: str) -> Team | None:
        return (await self.by_keys([key])).get(key)

    async def get(self, team_id: str) -> Team | None:
        row = await load_first(self.session, sa.select(TeamRow).where(teams_t.c.id == team_id))
        if row is None:
            return None
        return row.to_domain((await self._members([row.id])).get(row.id, []))

    async def _members(self, team_ids: Sequence[str]) -> dict[str, list[str]]:
        if not team_ids:
            return {}
        rows = await self.session.execute(
            sa.select(team_members_t.c.team_id, team_members_t.c.user_id)
            .where(team_members_t.c.team_id.in_(team_ids))
            .order_by(team_members_t.c.team_id, team_members_t.c.user_id),
            execution_options=FRESH,
        )
        members: dict[str, list[str]] = {}
        for team_id, user_id in rows:
            members.setdefault(team_id, []).append(user_id)
        return members

    async def ids_of_member(self, user_id: str) -> set[str]:
        """The teams a user belongs to, by id."""
        rows = await self.session.execute(
            sa.select(team_members_t.c.team_id).where(team_members_t.c.user_id == user_id)
        )
        return {team_id for (team_id,) in rows}

    async def set_workflow_teams(self, workflow_id: str, team_ids: Sequence[str]) -> None:
        await self.session.execute(
            workflow_teams_t.delete().where(workflow_teams_t.c.workflow_id == workflow_id)
        )
        if team_ids:
            await self.session.execute(
                workflow_teams_t.insert(),
                [{"workflow_id": workflow_id, "team_id": t} for t in dict.fromkeys(team_ids)],
            )


async def workflow_team_ids(
    session: AsyncSession, workflow_ids: Sequence[str]
) -> dict[str, tuple[str, ...]]:
    """Each workflow's teams, by id, in a stable order; workflows without teams are absent."""
    if not workflow_ids:
        return {}
    rows = await session.execute(
        sa.select(workflow_teams_t.c.workflow_id, workflow_teams_t.c.team_id)
        .where(workflow_teams_t.c.workflow_id.in_(workflow_ids))
        .order_by(workflow_teams_t.c.workflow_id, workflow_teams_t.c.team_id)
    )
    teams: dict[str, list[str]] = {}
    for workflow_id, team_id in rows:
        teams.setdefault(workflow_id, []).append(team_id)
    return {workflow_id: tuple(ids) for workflow_id, ids in teams.items()}
