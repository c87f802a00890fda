"""Users and their bearer tokens."""

from __future__ import annotations

from domain import validation
from domain.clock import utcnow
from domain.enums import Role
from domain.errors import AuthenticationError, ConflictError
from domain.ids import new_id
from domain.model import User, hash_token, new_token
from domain.ports import UnitOfWork, UserRepository
from domain.rights import require_role


async def authenticate(users: UserRepository, token: str | None) -> User:
    """The user a bearer token belongs to; AuthenticationError when none does."""
    if not token:
        raise AuthenticationError("a bearer token is required (Authorization: Bearer <token>)")
    user = await users.by_token_hash(hash_token(token), utcnow())
    if user is None:
        raise AuthenticationError(
            "the bearer token is not valid (unknown, expired or revoked, or its user deactivated)"
        )
    return user


async def create_user(
    uow: UnitOfWork, actor: User | None, name: str, role: Role
) -> tuple[User, str]:
    """Create a user and return it with its bearer token, which is shown only this once.

    `actor` None means the operator's command line, which needs no role.
    """
    if actor is not None:
        require_role(actor.role, Role.ADMIN, doing="creating users")
    clean = validation.text(name, "name", 100, required=True)
    assert clean is not None
    clean = clean.strip()
    if await uow.users.by_name(clean) is not None:
        raise ConflictError(f"a user named {clean!r} exists already")
    user = User(id=new_id("usr"), name=clean, role=role, created_at=utcnow())
    token = new_token()
    await uow.users.add(user, hash_token(token))
    await uow.commit()
    return user, token
