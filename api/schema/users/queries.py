"""me; users and adminActions (ADMIN)."""

from __future__ import annotations

import strawberry

from api.schema.common.problems import PublicError
from api.schema.common.types import Info
from api.schema.users.types import AdminAction, User
from domain.enums import Role
from domain.errors import InvalidInputError
from store.people import ADMIN_ACTIONS_MAX_PAGE, PeopleReads


def require_admin(info: Info, field: str) -> None:
    if info.context.viewer.role is not Role.ADMIN:
        raise PublicError(f"{field} needs the role ADMIN", "FORBIDDEN")


@strawberry.type
class UserQueries:
    @strawberry.field(description="The caller, as their bearer token says.")
    def me(self, info: Info) -> User | None:
        user = info.context.user
        return User.from_domain(user) if user else None

    @strawberry.field(
        description="ADMIN: every user, oldest first; deactivated ones only with "
        "includeInactive. Other roles get a FORBIDDEN error."
    )
    async def users(self, info: Info, include_inactive: bool = False) -> list[User]:
        require_admin(info, "users")
        reads = PeopleReads.over(await info.context.reads())
        return [User.from_domain(user) for user in await reads.all_users(include_inactive)]

    @strawberry.field(
        description="ADMIN: what admins did, newest first: `first` (0 to "
        f"{ADMIN_ACTIONS_MAX_PAGE}) after the action whose id is `after` (the last of the "
        "previous page). An id that is not an action's is a BAD_USER_INPUT error; other "
        "roles get a FORBIDDEN error."
    )
    async def admin_actions(
        self, info: Info, first: int | None = 50, after: str | None = None
    ) -> list[AdminAction]:
        require_admin(info, "adminActions")
        if first is not None and not 0 <= first <= ADMIN_ACTIONS_MAX_PAGE:
            raise PublicError(f"first must be from 0 to {ADMIN_ACTIONS_MAX_PAGE}", "BAD_USER_INPUT")
        reads = PeopleReads.over(await info.context.reads())
        try:
            found = await reads.admin_actions(50 if first is None else first, after)
        except InvalidInputError as error:
            raise PublicError(error.message, "BAD_USER_INPUT") from error
        return [AdminAction.from_domain(action) for action in found]
