"""createUser, deactivateUser, issueToken, revokeTokens."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated

import strawberry

from api.auth import announce_refusal
from api.schema.common.enums import Role
from api.schema.common.problems import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    returns_problems,
)
from api.schema.common.types import Info
from api.schema.users.types import User
from domain.model import User as DomainUser
from domain.ports import UnitOfWork
from domain.usecases.accounts import create_user, deactivate_user
from domain.usecases.tokens import issue_token, revoke_tokens


@strawberry.type
class UserSuccess:
    user: User
    token: str = strawberry.field(description="The bearer token: shown once.")


@strawberry.type
class TokenSuccess:
    user: User
    token: str = strawberry.field(description="The new bearer token: shown once.")
    expires_at: datetime | None


@strawberry.type
class UserUpdated:
    user: User


UserResult = Annotated[
    UserSuccess | Forbidden | InvalidInput | Conflict, strawberry.union("UserResult")
]
TokenResult = Annotated[
    TokenSuccess | NotFound | Forbidden | InvalidInput, strawberry.union("TokenResult")
]
UserUpdateResult = Annotated[
    UserUpdated | NotFound | Forbidden | InvalidInput, strawberry.union("UserUpdateResult")
]


async def refusing_tokens(
    info: Info, use_case: Callable[[UnitOfWork, DomainUser, str], Awaitable[DomainUser]], id: str
) -> UserUpdated:
    """Run a use case after which the user's tokens are refused; then every replica forgets
    them (api.token_cache)."""
    user = await info.context.run(use_case, id)
    await announce_refusal(info.context.services, user.id)
    return UserUpdated(user=User.from_domain(user))


@strawberry.type
class UserMutations:
    @strawberry.mutation(description="ADMIN: create a user; the answer carries its token once.")
    @returns_problems[UserResult](Forbidden, InvalidInput, Conflict)
    async def create_user(self, info: Info, name: str, role: Role) -> UserResult:
        user, token = await info.context.run(create_user, name, role)
        return UserSuccess(user=User.from_domain(user), token=token)

    @strawberry.mutation(
        description="ADMIN: refuse the user's tokens from now on, on every replica within "
        "a second. Deactivating yourself is InvalidInput (you would be locked out)."
    )
    @returns_problems[UserUpdateResult](NotFound, Forbidden, InvalidInput)
    async def deactivate_user(self, info: Info, id: strawberry.ID) -> UserUpdateResult:
        return await refusing_tokens(info, deactivate_user, str(id))

    @strawberry.mutation(
        description="ADMIN, or any user for themselves: one more bearer token for the user, "
        "shown once; expiresInSeconds (positive) or null for none."
    )
    @returns_problems[TokenResult](NotFound, Forbidden, InvalidInput)
    async def issue_token(
        self, info: Info, user: strawberry.ID, expires_in_seconds: int | None = None
    ) -> TokenResult:
        issued = await info.context.run(issue_token, str(user), expires_in_seconds)
        return TokenSuccess(
            user=User.from_domain(issued.user), token=issued.token, expires_at=issued.expires_at
        )

    @strawberry.mutation(
        description="ADMIN, or any user for themselves: revoke every token of the user at "
        "once, on every replica within a second."
    )
    @returns_problems[UserUpdateResult](NotFound, Forbidden, InvalidInput)
    async def revoke_tokens(self, info: Info, user: strawberry.ID) -> UserUpdateResult:
        return await refusing_tokens(info, revoke_tokens, str(user))
