"""Users and their tokens, and the record of admin actions. Never commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from domain.admin_actions import AdminAction
from domain.model import User
from store.loading import load_all, load_first
from store.tables import (
    AdminActionRow,
    UserRow,
    admin_actions_t,
    api_tokens_t,
    users_t,
    values_of,
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


class SqlAdminActions:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, action: AdminAction) -> None:
        await self.session.execute(
            admin_actions_t.insert().values(values_of(AdminActionRow.of(action)))
        )
