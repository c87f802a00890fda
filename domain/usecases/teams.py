"""Teams, the workflows they review, and pinning items to a reviewer or a team."""

from __future__ import annotations

from collections.abc import Sequence

from domain import outbox, validation
from domain.admin_actions import AdminAction
from domain.clock import utcnow
from domain.enums import Role
from domain.errors import ConflictError, ForbiddenError, InvalidInputError, NotFoundError
from domain.events import QueueEvent, QueueEventKind
from domain.ids import new_id
from domain.model import Recommendation, User, Workflow
from domain.ports import UnitOfWork
from domain.rights import REVIEWER_ROLES, may_decide, require_role
from domain.teams import ReviewerIdentity, Team, require_team_key, reviews_workflow
from domain.usecases.review import load_visible, sees_workflow
from domain.usecases.workflows import get_workflow

MAX_MEMBERS = 1_000
MAX_TEAMS_PER_WORKFLOW = 50


async def _known_users(uow: UnitOfWork, ids: Sequence[str], field: str) -> list[str]:
    """The ids, each once, checked to name existing users (InvalidInput otherwise)."""
    unique = list(dict.fromkeys(str(i) for i in ids))
    if len(unique) > MAX_MEMBERS:
        raise InvalidInputError(f"a team has at most {MAX_MEMBERS} members", field)
    unknown = [user_id for user_id in unique if await uow.users.get(user_id) is None]
    if unknown:
        raise InvalidInputError(f"no user with id {', '.join(unknown)}", field)
    return unique


async def create_team(
    uow: UnitOfWork, actor: User, key: str, name: str, member_ids: Sequence[str]
) -> Team:
    require_role(actor.role, Role.ADMIN, doing="creating teams")
    require_team_key(key)
    clean = validation.text(name, "name", validation.MAX_SHORT_TEXT, required=True)
    assert clean is not None
    members = await _known_users(uow, member_ids, "members")
    if await uow.teams.by_key(key) is not None:
        raise ConflictError(f"a team with key {key!r} exists already")
    team = Team(new_id("team"), key, clean.strip(), utcnow(), members)
    await uow.teams.add(team)
    await uow.admin_actions.add(
        AdminAction.record(
            actor.id, "createTeam", key, {"key": key, "name": team.name, "members": members}
        )
    )
    await uow.commit()
    return team


async def _team(uow: UnitOfWork, key: str) -> Team:
    team = await uow.teams.by_key(key)
    if team is None:
        raise NotFoundError(f"no team with key {key!r}")
    return team


async def set_team_members(
    uow: UnitOfWork, actor: User, key: str, member_ids: Sequence[str]
) -> Team:
    """Replace a team's members; who sees which workflow follows at once."""
    require_role(actor.role, Role.ADMIN, doing="changing teams")
    team = await _team(uow, key)
    members = await _known_users(uow, member_ids, "members")
    await uow.teams.set_members(team.id, members)
    team.member_ids = members
    await uow.admin_actions.add(
        AdminAction.record(actor.id, "setTeamMembers", key, {"members": members})
    )
    await uow.commit()
    return team


async def set_workflow_teams(
    uow: UnitOfWork, actor: User, workflow_key: str, team_keys: Sequence[str]
) -> Workflow:
    """Name the teams that review a workflow (none: every user of a fitting role)."""
    require_role(actor.role, Role.ADMIN, doing="choosing a workflow's teams")
    workflow = await get_workflow(uow, workflow_key)
    keys = list(dict.fromkeys(team_keys))
    if len(keys) > MAX_TEAMS_PER_WORKFLOW:
        raise InvalidInputError(
            f"a workflow is reviewed by at most {MAX_TEAMS_PER_WORKFLOW} teams", "teams"
        )
    found = await uow.teams.by_keys(keys)
    unknown = [key for key in keys if key not in found]
    if unknown:
        raise InvalidInputError(f"no team with key {', '.join(map(repr, unknown))}", "teams")
    team_ids = [found[key].id for key in keys]
    await uow.teams.set_workflow_teams(workflow.id, team_ids)
    workflow.team_ids = tuple(sorted(team_ids))
    await uow.admin_actions.add(
        AdminAction.record(actor.id, "setWorkflowTeams", workflow_key, {"teams": keys})
    )
    await uow.commit()
    return workflow


async def _check_assignee(
    uow: UnitOfWork, item: Recommendation, workflow: Workflow, reviewer_id: str
) -> User:
    assignee = await uow.users.get(reviewer_id)
    if assignee is None:
        raise InvalidInputError(f"no user with id {reviewer_id}", "reviewer")
    if not assignee.active:
        raise InvalidInputError(f"{assignee.name} is deactivated", "reviewer")
    if assignee.role not in REVIEWER_ROLES or not may_decide(assignee.role, item.tier, item.status):
        raise InvalidInputError(
            f"{assignee.name} is a {assignee.role.value} and may not decide this "
            f"{item.tier.value} item",
            "reviewer",
        )
    teams = await uow.teams.ids_of_member(assignee.id)
    if not reviews_workflow(assignee, workflow.team_ids, teams):
        raise InvalidInputError(
            f"{assignee.name} is in none of the teams that review workflow {workflow.key!r}",
            "reviewer",
        )
    return assignee


async def _check_team(uow: UnitOfWork, workflow: Workflow, key: str) -> Team:
    team = await uow.teams.by_key(key)
    if team is None:
        raise InvalidInputError(f"no team with key {key!r}", "team")
    if workflow.team_ids and team.id not in workflow.team_ids:
        raise InvalidInputError(
            f"team {key!r} does not review workflow {workflow.key!r}; "
            "add it with setWorkflowTeams first",
            "team",
        )
    return team


async def assign(
    uow: UnitOfWork,
    actor: User,
    rec_id: str,
    reviewer_id: str | None,
    team_key: str | None,
) -> Recommendation:
    """Pin an open item to one reviewer or one team (both None: unpin).

    ADMIN, or a SENIOR within the workflows they may review. Only the pinned reviewer
    (or the team's members) may then claim or decide it; a claim of anyone else ends.
    """
    require_role(actor.role, Role.ADMIN, Role.SENIOR, doing="assigning items")
    if reviewer_id is not None and team_key is not None:
        raise InvalidInputError("assign to a reviewer or to a team, not both", "team")
    item = await load_visible(uow, actor, rec_id)
    if item.canary:
        raise NotFoundError(f"no recommendation {rec_id}")
    if not await sees_workflow(uow, actor, item.workflow_id):
        raise ForbiddenError("you do not review this workflow")
    workflow = await uow.workflows.get(item.workflow_id)
    assert workflow is not None
    team = None
    if reviewer_id is not None:
        if item.reviews_required > 1:
            raise InvalidInputError(
                f"this item needs {item.reviews_required} reviews from distinct reviewers: "
                "assign it to a team",
                "reviewer",
            )
        await _check_assignee(uow, item, workflow, reviewer_id)
    if team_key is not None:
        team = await _check_team(uow, workflow, team_key)
    now = utcnow()
    claim = item.live_claim(now)
    keep_claim = True
    if claim is not None:
        holder = ReviewerIdentity(
            claim.reviewer_id, frozenset(await uow.teams.ids_of_member(claim.reviewer_id))
        )
        keep_claim = holder.may_take(reviewer_id, team.id if team else None)
    expected_version, expected_status = item.version, item.status
    if not item.pin(reviewer_id, team.id if team else None, now, keep_claim=keep_claim):
        return item
    if not await uow.recommendations.save(item, expected_version, expected_status):
        raise ConflictError("someone else changed this item first; read it again")
    await outbox.record(uow, [QueueEvent.of(QueueEventKind.ASSIGNED, item, now, actor.id)])
    target = {"reviewer": reviewer_id, "team": team_key}
    await uow.admin_actions.add(AdminAction.record(actor.id, "assign", item.id, target))
    await uow.commit()
    return item
