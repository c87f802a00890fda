"""Bearer tokens: issuing more (each shown once, with an optional expiry) and revoking
every token of a user. ADMIN for anyone; any user for themselves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.clock import utcnow
from domain.enums import Role
from domain.errors import ForbiddenError, InvalidInputError
from domain.model import User, hash_token, new_token
from domain.ports import UnitOfWork
from domain.usecases.accounts import existing_user, record

MAX_EXPIRY_SECONDS = 10 * 365 * 24 * 3600


@dataclass(frozen=True)
class IssuedToken:
    user: User
    token: str  # shown once: only its digest is stored
    expires_at: datetime | None


def require_self_or_admin(actor: User, user_id: str, doing: str) -> None:
    if actor.role is not Role.ADMIN and actor.id != user_id:
        raise ForbiddenError(f"{doing} of another user needs the role ADMIN")


async def issue_token(
    uow: UnitOfWork, actor: User, user_id: str, expires_in_seconds: int | None
) -> IssuedToken:
    """A new bearer token for the user, besides the ones they hold."""
    require_self_or_admin(actor, user_id, "issuing tokens")
    if expires_in_seconds is not None and not 0 < expires_in_seconds <= MAX_EXPIRY_SECONDS:
        raise InvalidInputError(
            f"expiresInSeconds must be from 1 to {MAX_EXPIRY_SECONDS} (or null: no expiry)",
            "expiresInSeconds",
        )
    user = await existing_user(uow, user_id)
    if not user.active:
        raise InvalidInputError("the user is deactivated: its tokens would be refused", "user")
    now = utcnow()
    expires_at = now + timedelta(seconds=expires_in_seconds) if expires_in_seconds else None
    token = new_token()
    await uow.users.add_token(user.id, hash_token(token), now, expires_at)
    details = {"expiresInSeconds": expires_in_seconds}
    await record(uow, actor, "issueToken", user.id, details)
    await uow.commit()
    return IssuedToken(user=user, token=token, expires_at=expires_at)


async def revoke_tokens(uow: UnitOfWork, actor: User, user_id: str) -> User:
    """Revoke every token of the user still in force, at once."""
    require_self_or_admin(actor, user_id, "revoking tokens")
    user = await existing_user(uow, user_id)
    revoked = await uow.users.revoke_tokens(user.id, utcnow())
    await record(uow, actor, "revokeTokens", user.id, {"revoked": revoked})
    await uow.commit()
    return user
