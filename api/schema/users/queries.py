"""me."""

from __future__ import annotations

import strawberry

from api.schema.common.types import Info
from api.schema.users.types import User


@strawberry.type
class UserQueries:
    @strawberry.field(description="The caller, as their bearer token says.")
    def me(self, info: Info) -> User | None:
        user = info.context.user
        return User.from_domain(user) if user else None
