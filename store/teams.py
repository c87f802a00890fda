"""Teams, their members, and the workflows they review. Never commits."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from domain.teams import Team
from store.loading import FRESH, load_all, load_first
from store.queries import Reads
from store.tables import TeamRow, team_members_t, teams_t, values_of, workflow_teams_t


def may_review_clause(workflow_id: Any, user_id: Any) -> sa.ColumnElement[bool]:
    """SQL for domain.teams.reviews_workflow, for a user who does not see every workflow:
    the workflow (an id, or a column such as the item's workflow_id) has no teams, or
    the user (an id, or a bound parameter) is in one of them."""
    wt, tm = workflow_teams_t.c, team_members_t.c
    no_teams = ~sa.exists().where(wt.workflow_id == workflow_id)
    member = sa.exists().where(
        wt.workflow_id == workflow_id, tm.team_id == wt.team_id, tm.user_id == user_id
    )
    return sa.or_(no_teams, member)


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

    async def may_review(self, workflow_id: str, user_id: str) -> bool:
        """Whether the workflow has no teams, or the user is in one of them (one statement)."""
        query = sa.select(may_review_clause(workflow_id, user_id))
        return bool((await self.session.execute(query)).scalar_one())

    async def set_workflow_teams(self, workflow_id: str, team_ids: Sequence[str]) -> None:
        await self.session.execute(
            workflow_teams_t.delete().where(workflow_teams_t.c.workflow_id == workflow_id)
        )
        if team_ids:
            await self.session.execute(
                workflow_teams_t.insert(),
                [{"workflow_id": workflow_id, "team_id": t} for t in dict.fromkeys(team_ids)],
            )


class TeamReads(Reads):
    """Read queries for teams and who may see which workflow's items."""

    @classmethod
    def over(cls, model: Reads) -> TeamReads:
        return cls(model.session, model._lock)

    async def teams(self, ids: Iterable[str] | None = None) -> list[Team]:
        """Teams (all, or these), members included, by key."""
        query = sa.select(TeamRow).order_by(teams_t.c.key)
        if ids is not None:
            query = query.where(teams_t.c.id.in_(set(ids)))
        rows = await self._rows(query)
        members = await self._members([row.id for row in rows])
        return [row.to_domain(members.get(row.id, [])) for row in rows]

    async def _members(self, team_ids: Sequence[str]) -> dict[str, list[str]]:
        if not team_ids:
            return {}
        found = await self._execute(
            sa.select(team_members_t.c.team_id, team_members_t.c.user_id)
            .where(team_members_t.c.team_id.in_(team_ids))
            .order_by(team_members_t.c.team_id, team_members_t.c.user_id)
        )
        members: dict[str, list[str]] = {}
        for team_id, user_id in found:
            members.setdefault(team_id, []).append(user_id)
        return members

    async def team_ids_of_users(self, user_ids: Iterable[str]) -> dict[str, list[str]]:
        """Each user's teams, by id; users in no team are absent."""
        found = await self._execute(
            sa.select(team_members_t.c.user_id, team_members_t.c.team_id)
            .where(team_members_t.c.user_id.in_(set(user_ids)))
            .order_by(team_members_t.c.user_id, team_members_t.c.team_id)
        )
        teams: dict[str, list[str]] = {}
        for user_id, team_id in found:
            teams.setdefault(user_id, []).append(team_id)
        return teams

    async def workflow_ids_of_teams(self, team_ids: Iterable[str]) -> dict[str, list[str]]:
        """The workflows each team reviews, by id; teams reviewing none are absent."""
        found = await self._execute(
            sa.select(workflow_teams_t.c.team_id, workflow_teams_t.c.workflow_id)
            .where(workflow_teams_t.c.team_id.in_(set(team_ids)))
            .order_by(workflow_teams_t.c.team_id, workflow_teams_t.c.workflow_id)
        )
        workflows: dict[str, list[str]] = {}
        for team_id, workflow_id in found:
            workflows.setdefault(team_id, []).append(workflow_id)
        return workflows

    async def workflows_hidden_from(self, user_id: str) -> frozenset[str]:
        """Workflows reviewed by teams, none of which has this user as a member."""
        wt, mine = workflow_teams_t.c, workflow_teams_t.alias("mine")
        member = sa.exists().where(
            (mine.c.workflow_id == wt.workflow_id)
            & (team_members_t.c.team_id == mine.c.team_id)
            & (team_members_t.c.user_id == user_id)
        )
        found = await self._execute(sa.select(wt.workflow_id).distinct().where(~member))
        return frozenset(workflow_id for (workflow_id,) in found)
