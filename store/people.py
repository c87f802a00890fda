"""Users and their tokens, and the record of admin actions. Never commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from domain.admin_actions import AdminAction
from domain.clock import as_utc
from domain.enums import Role
from domain.errors import InvalidInputError
from domain.model import User
from store.loading import FRESH, load_all, load_first
from store.queries import Reads
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

    async def set_role(self, user_id: str, role: Role) -> None:
        await self.session.execute(
            users_t.update().where(users_t.c.id == user_id).values(role=role)
        )

    async def refusal_mark(self) -> tuple[int, str, int]:
        """A cheap summary that changes whenever a token is revoked or a user deactivated
        (revoked tokens, their latest revocation, inactive users): replicas compare it to
        know whether a token they remember may have been refused meanwhile."""
        revoked = api_tokens_t.c.revoked_at.is_not(None)
        query = sa.select(
            sa.select(sa.func.count()).select_from(api_tokens_t).where(revoked).scalar_subquery(),
            sa.select(sa.func.max(api_tokens_t.c.revoked_at)).scalar_subquery(),
            sa.select(sa.func.count())
            .select_from(users_t)
            .where(sa.not_(users_t.c.active))
            .scalar_subquery(),
        )
        tokens, latest, inactive = (await self.session.execute(query)).one()
        return int(tokens or 0), str(latest), int(inactive or 0)

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

    async def token_holder(
        self, token_hash: str, now: datetime
    ) -> tuple[User, datetime | None] | None:
        """The active user whose usable token has this digest, and when it expires."""
        query = (
            sa.select(UserRow, api_tokens_t.c.expires_at)
            .join(api_tokens_t, api_tokens_t.c.user_id == users_t.c.id)
            .where((api_tokens_t.c.token_hash == token_hash) & usable_token(now))
        )
        found = (await self.session.execute(query, execution_options=FRESH)).first()
        if found is None:
            return None
        row, expires_at = found
        return row.to_domain(), as_utc(expires_at)

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


ADMIN_ACTIONS_MAX_PAGE = 200


class PeopleReads(Reads):
    """Users and the admin record, over a request's read session (shares its lock)."""

    @classmethod
    def over(cls, model: Reads) -> PeopleReads:
        return cls(model.session, model._lock)

    async def all_users(self, include_inactive: bool) -> list[User]:
        """Every user (or every active one), oldest first."""
        query = sa.select(UserRow).order_by(users_t.c.created_at, users_t.c.name)
        if not include_inactive:
            query = query.where(users_t.c.active)
        return [row.to_domain() for row in await self._rows(query)]

    async def admin_actions(self, first: int, after: str | None) -> list[AdminAction]:
        """Up to `first` admin actions, newest first, after the action whose id is `after`
        (the last of the previous page); an id that is not an action's is InvalidInputError."""
        first = max(0, min(first, ADMIN_ACTIONS_MAX_PAGE))
        query = sa.select(AdminActionRow).order_by(
            admin_actions_t.c.at.desc(), admin_actions_t.c.id.desc()
        )
        if after is not None:
            at = await self._action_time(after)
            query = query.where(
                (admin_actions_t.c.at < at)
                | ((admin_actions_t.c.at == at) & (admin_actions_t.c.id < after))
            )
        return [row.to_domain() for row in await self._rows(query.limit(first))]

    async def _action_time(self, action_id: str) -> datetime:
        found = None
        if 0 < len(action_id) <= 40:
            query = sa.select(admin_actions_t.c.at).where(admin_actions_t.c.id == action_id)
            found = (await self._execute(query)).scalar_one_or_none()
        if found is None:
            raise InvalidInputError(
                f"after is not a cursor this API gave out for adminActions: {action_id[:50]!r} "
                "is not the id of an admin action (pass the id of the last action of the "
                "previous page)",
                "after",
            )
        return found  # type: ignore[no-any-return]
