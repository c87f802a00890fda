"""Users: creating and deactivating them, and the users an identity provider vouches
for (OpenID Connect). Every change made by or for an admin is recorded in the admin
actions, in the same unit of work. (Bearer tokens are resolved by api.auth.)"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from domain import validation
from domain.admin_actions import AdminAction
from domain.clock import utcnow
from domain.enums import Role
from domain.errors import AuthenticationError, ConflictError, InvalidInputError, NotFoundError
from domain.ids import new_id
from domain.model import User, hash_token, new_token
from domain.ports import UnitOfWork
from domain.rights import require_role

MAX_NAME = 100


async def create_user(
    uow: UnitOfWork, actor: User | None, name: str, role: Role
) -> tuple[User, str]:
    """Create a user and return it with its bearer token, which is shown only this once.

    `actor` None means the operator's command line, which needs no role.
    """
    if actor is not None:
        require_role(actor.role, Role.ADMIN, doing="creating users")
    clean = validation.text(name, "name", MAX_NAME, required=True)
    assert clean is not None
    clean = clean.strip()
    if await uow.users.by_name(clean) is not None:
        raise ConflictError(f"a user named {clean!r} exists already")
    user = User(id=new_id("usr"), name=clean, role=role, created_at=utcnow())
    token = new_token()
    await uow.users.add(user, hash_token(token))
    await record(uow, actor, "createUser", user.id, {"name": clean, "role": role.value})
    await uow.commit()
    return user, token


async def deactivate_user(uow: UnitOfWork, actor: User, user_id: str) -> User:
    """ADMIN: refuse every token of the user from now on. The user stays, as the author
    of past work; deactivating an inactive user changes nothing and says so by its state."""
    require_role(actor.role, Role.ADMIN, doing="deactivating users")
    if user_id == actor.id:
        raise InvalidInputError(
            "you cannot deactivate yourself: your own tokens would be refused at once and "
            "you would be locked out; ask another admin",
            "id",
        )
    user = await existing_user(uow, user_id)
    if user.active:
        await uow.users.set_active(user.id, False)
        user.active = False
    await record(uow, actor, "deactivateUser", user.id)
    await uow.commit()
    return user


async def existing_user(uow: UnitOfWork, user_id: str) -> User:
    user = await uow.users.get(user_id)
    if user is None:
        raise NotFoundError(f"no user {user_id!r}")
    return user


async def record(
    uow: UnitOfWork,
    actor: User | None,
    action: str,
    target: str | None,
    details: Mapping[str, object] | None = None,
) -> None:
    """Add an admin action to the unit of work (committed with the change it records).
    Values JSON cannot hold (a date, a number type of its own) are recorded as text."""
    plain = json.loads(json.dumps(details, default=str)) if details is not None else None
    await uow.admin_actions.add(
        AdminAction.record(actor.id if actor else None, action, target, plain)
    )


# ------------------------------------------------------------ OpenID Connect


@dataclass(frozen=True)
class ExternalIdentity:
    """Who an identity provider says is asking: its issuer and subject, a display name,
    and the role its claim names."""

    issuer: str
    subject: str
    name: str
    role: Role

    @property
    def external_id(self) -> str:
        return f"{self.issuer} {self.subject}"


async def sign_in_external(uow: UnitOfWork, identity: ExternalIdentity) -> User:
    """The user of an identity provider's subject: created on first sign-in (named by the
    provider, made unique), its role following the provider's claim. Both changes are
    recorded as admin actions of no one (actor None): the provider made them.
    A deactivated user is refused (AuthenticationError)."""
    user = await uow.users.by_external_id(identity.external_id)
    if user is None:
        user = User(
            id=new_id("usr"),
            name=await unique_name(uow, identity.name),
            role=identity.role,
            created_at=utcnow(),
        )
        await uow.users.add(user, None, external_id=identity.external_id)
        details = {"name": user.name, "role": user.role.value, "issuer": identity.issuer}
        await record(uow, None, "createUser", user.id, details)
        await uow.commit()
        return user
    if not user.active:
        raise AuthenticationError("the user of this identity is deactivated")
    if user.role is not identity.role:
        details = {"from": user.role.value, "to": identity.role.value, "issuer": identity.issuer}
        await uow.users.set_role(user.id, identity.role)
        await record(uow, None, "syncRoleFromIdentityProvider", user.id, details)
        user.role = identity.role
        await uow.commit()
    return user


async def unique_name(uow: UnitOfWork, wanted: str) -> str:
    """`wanted` (trimmed, shortened), or with " (2)", " (3)"... when it is taken."""
    base = " ".join(wanted.split())[: MAX_NAME - 8] or "user"
    candidate, n = base, 1
    while await uow.users.by_name(candidate) is not None:
        n += 1
        candidate = f"{base} ({n})"
    return candidate
