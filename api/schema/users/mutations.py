"""createUser."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.schema.common.enums import Role
from api.schema.common.problems import Conflict, Forbidden, InvalidInput, returns_problems
from api.schema.common.types import Info
from api.schema.users.types import User
from domain.usecases.accounts import create_user


@strawberry.type
class UserSuccess:
    user: User
    token: str = strawberry.field(description="The bearer token: shown once.")


UserResult = Annotated[
    UserSuccess | Forbidden | InvalidInput | Conflict, strawberry.union("UserResult")
]


@strawberry.type
class UserMutations:
    @strawberry.mutation(description="ADMIN: create a user; the answer carries its token once.")
    @returns_problems[UserResult](Forbidden, InvalidInput, Conflict)
    async def create_user(self, info: Info, name: str, role: Role) -> UserResult:
        user, token = await info.context.run(create_user, name, role)
        return UserSuccess(user=User.from_domain(user), token=token)
