"""The User type."""

from __future__ import annotations

import strawberry

from api.schema.common.enums import Role
from api.schema.common.types import Info, Node
from domain import model


@strawberry.type(name="User")
class User(Node):
    id: strawberry.ID
    name: str
    role: Role

    @classmethod
    def from_domain(cls, user: model.User) -> User:
        return cls(id=strawberry.ID(user.id), name=user.name, role=user.role)


async def load_user(info: Info, user_id: str | None) -> User | None:
    if user_id is None:
        return None
    found = await info.context.loaders.user.load(user_id)
    return User.from_domain(found) if found else None


def user_or_none(found: model.User | None) -> User | None:
    return User.from_domain(found) if found else None
