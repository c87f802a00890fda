"""The User and AdminAction types."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from api.schema.common.enums import Role
from api.schema.common.types import JSON, Info, Node
from domain import admin_actions, model
from domain.enums import Role as DomainRole

if TYPE_CHECKING:
    from api.schema.teams.types import Team


@strawberry.type(name="User")
class User(Node):
    id: strawberry.ID
    name: str
    role: Role
    active: bool = strawberry.field(
        default=True,
        description="A deactivated user's tokens are refused at once, on every replica.",
    )

    @strawberry.field(description="The teams this user is a member of, by key.")
    async def teams(
        self, info: Info
    ) -> list[Annotated[Team, strawberry.lazy("api.schema.teams.types")]]:
        from api.schema.teams.types import load_teams

        return await load_teams(info, await info.context.loaders.team_ids_of_user.load(self.id))

    @classmethod
    def from_domain(cls, user: model.User) -> User:
        return cls(id=strawberry.ID(user.id), name=user.name, role=user.role, active=user.active)


OPERATOR = model.User(
    id="operator",
    name="(operator: command line or identity provider)",
    role=DomainRole.ADMIN,
    created_at=datetime(1970, 1, 1, tzinfo=UTC),
)
"""Who an admin action of no user was done by: the operator's command line, or the
identity provider (a user created on first sign-in, a role following its claim)."""


@strawberry.type(name="AdminAction")
class AdminAction:
    id: strawberry.ID
    action: str = strawberry.field(description='The mutation\'s name, e.g. "deactivateUser".')
    target: str | None = strawberry.field(description="The id or key it acted on.")
    details: JSON | None = strawberry.field(description="Its arguments, secrets left out.")
    at: datetime
    actor_id: strawberry.Private[str | None]

    @strawberry.field(description="Who did it; the operator for the command line.")
    async def actor(self, info: Info) -> User:
        found = await load_user(info, self.actor_id)
        return found or User.from_domain(OPERATOR)

    @classmethod
    def from_domain(cls, action: admin_actions.AdminAction) -> AdminAction:
        details: Any = action.details
        return cls(
            id=strawberry.ID(action.id),
            action=action.action,
            target=action.target,
            details=details,
            at=action.at,
            actor_id=action.actor_id,
        )


async def load_user(info: Info, user_id: str | None) -> User | None:
    if user_id is None:
        return None
    found = await info.context.loaders.user.load(user_id)
    return User.from_domain(found) if found else None


def user_or_none(found: model.User | None) -> User | None:
    return User.from_domain(found) if found else None
