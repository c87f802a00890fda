"""Users and their tokens, teams, and the record of admin actions. Never commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from domain.admin_actions import AdminAction
from domain.model import User
from domain.teams import Team
from store.loading import FRESH, load_all, load_first
from store.tables import (
    AdminActionRow,
    TeamRow,
    UserRow,
    admin_actions_t,
    api_tokens_t,
    team_members_t,
    teams_t,
    users_t,
    values_of,
    workflow_teams_t,
)


def usable_token(now: datetime) -> Any:
    """A token that is neither revoked nor expired, of an active user."""
    return (
        api_tokens_t.c.revoked_at.is_(None)
        & (api_tokens_t.c.expires_at.is_(None) | (api_tokens_t.c.expires_at > now))
        & users_t.c.active
    )


class SqlUsers:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self,
        user: User,
        token_hash: str | None,
        *,
        expires_at: datetime | None = None,
        external_id: str | None = None,
    ) -> None:
        """Store a user, with a first bearer token unless `token_hash` is None."""
        row = UserRow.of(user, external_id)
        await self.session.execute(users_t.insert().values(values_of(row)))
        if token_hash is not None:
            await self.add_token(user.id, token_hash, user.created_at, expires_at)

    async def add_token(
        self, user_id: str, token_hash: str, created_at: datetime, expires_at: datetime | None
    ) -> None:
        await self.session.execute(
            api_tokens_t.insert().values(
                token_hash=token_hash,
                user_id=user_id,
                created_at=created_at,
                expires_at=expires_at,
            )
        )

    async def revoke_tokens(self, user_id: str, now: datetime) -> int:
        """Revoke every token of the user still in force; how many there were."""
        result = await self.session.execute(
            api_tokens_t.update()
            .where((api_tokens_t.c.user_id == user_id) & api_tokens_t.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def set_active(self, user_id: str, active: bool) -> None:
        await self.session.execute(
            users_t.update().where(users_t.c.id == user_id).values(active=active)
        )

    async def _one(self, condition: Any) -> User | None:
        row = await load_first(self.session, sa.select(UserRow).where(condition))
        return row.to_domain() if row else None

    async def get(self, user_id: str) -> User | None:
        return await self._one(users_t.c.id == user_id)

    async def by_token_hash(self, token_hash: str, now: datetime) -> User | None:
        """The active user whose unexpired, unrevoked token has this digest."""
        query = (
            sa.select(UserRow)
            .join(api_tokens_t, api_tokens_t.c.user_id == users_t.c.id)
            .where((api_tokens_t.c.token_hash == token_hash) & usable_token(now))
        )
        row = await load_first(self.session, query)
        return row.to_domain() if row else None

    async def by_name(self, name: str) -> User | None:
        return await self._one(users_t.c.name == name)

    async def by_external_id(self, external_id: str) -> User | None:
        return await self._one(users_t.c.external_id == external_id)

    async def all(self, include_inactive: bool = True) -> list[User]:
        """Every user (or every active one), oldest first."""
        query = sa.select(UserRow).order_by(users_t.c.created_at, users_t.c.name)
        if not include_inactive:
            query = query.where(users_t.c.active)
        return [row.to_domain() for row in await load_all(self.session, query)]


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


class SqlAdminActions:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, action: AdminAction) -> None:
        await self.session.execute(
            admin_actions_t.insert().values(values_of(AdminActionRow.of(action)))
        )
