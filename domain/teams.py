"""Teams: who reviews a workflow's items, when the workflow names its teams."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from domain.enums import Role
from domain.errors import InvalidInputError
from domain.users import User

TEAM_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


@dataclass
class Team:
    id: str
    key: str
    name: str
    created_at: datetime
    member_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ReviewerIdentity:
    """A reviewer and the teams they are in: what an item's assignment is checked against."""

    id: str
    team_ids: frozenset[str] = frozenset()

    def may_take(self, assignee_id: str | None, assigned_team_id: str | None) -> bool:
        """Whether an item pinned this way (or not at all) is theirs to claim and decide."""
        if assignee_id is not None and assignee_id != self.id:
            return False
        return assigned_team_id is None or assigned_team_id in self.team_ids


def require_team_key(key: str, field_name: str = "key") -> str:
    """A team key: 1-64 lower-case letters, digits, '-' or '_', starting with a letter or digit."""
    if not TEAM_KEY.match(key or ""):
        raise InvalidInputError(
            "a team key is 1-64 lower-case letters, digits, '-' or '_', "
            "starting with a letter or a digit",
            field_name,
        )
    return key


def sees_every_workflow(user: User) -> bool:
    """Admins, and services (which submit), see every workflow's items, teams or not."""
    return user.role in (Role.ADMIN, Role.SERVICE)


def reviews_workflow(
    user: User, workflow_team_ids: Collection[str], user_team_ids: Collection[str]
) -> bool:
    """Whether `user` may see, claim and decide the items of a workflow with these teams.

    A workflow without teams is open to every user of a fitting role (version 1); one
    with teams only to their members, and to admins (and to services, which submit)."""
    if not workflow_team_ids or sees_every_workflow(user):
        return True
    return any(team_id in workflow_team_ids for team_id in user_team_ids)
