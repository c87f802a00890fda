"""createTeam, setTeamMembers, setWorkflowTeams, assign."""

from __future__ import annotations

import strawberry

from api.schema.common.problems import Conflict, Forbidden, InvalidInput, NotFound, returns_problems
from api.schema.common.types import Info
from api.schema.recommendations.mutations import RecommendationResult, RecommendationSuccess
from api.schema.recommendations.types import Recommendation
from api.schema.teams.types import Team, TeamResult, TeamSuccess
from api.schema.workflows.mutations import WorkflowResult, WorkflowSuccess
from api.schema.workflows.types import Workflow
from domain.errors import InvalidInputError, NotFoundError
from domain.usecases import teams as team_cases


@strawberry.type
class TeamMutations:
    @strawberry.mutation(description="ADMIN: a new team; `members` are user ids.")
    @returns_problems[TeamResult](NotFound, Forbidden, InvalidInput, Conflict)
    async def create_team(
        self, info: Info, key: str, name: str, members: list[strawberry.ID] | None = None
    ) -> TeamResult:
        ids = [str(m) for m in members or []]
        team = await info.context.run(team_cases.create_team, key, name, ids)
        return TeamSuccess(team=Team.from_domain(team))

    @strawberry.mutation(
        description="ADMIN: replace a team's members (user ids); who sees which workflow's "
        "items follows at once."
    )
    @returns_problems[TeamResult](NotFound, Forbidden, InvalidInput, Conflict)
    async def set_team_members(
        self, info: Info, team: str, members: list[strawberry.ID]
    ) -> TeamResult:
        found = await info.context.run(team_cases.set_team_members, team, [str(m) for m in members])
        return TeamSuccess(team=Team.from_domain(found))

    @strawberry.mutation(
        description="ADMIN: the teams (keys) that review a workflow: only their members (and "
        "admins) see, claim and decide its items. An empty list opens it to every user of a "
        "fitting role. An unknown team (or workflow) is InvalidInput and changes nothing."
    )
    @returns_problems[WorkflowResult](Forbidden, InvalidInput, Conflict)
    async def set_workflow_teams(
        self, info: Info, workflow: str, teams: list[str]
    ) -> WorkflowResult:
        try:
            found = await info.context.run(team_cases.set_workflow_teams, workflow, teams)
        except NotFoundError as error:
            raise InvalidInputError(error.message, "workflow") from error
        return WorkflowSuccess(workflow=Workflow.from_domain(found))

    @strawberry.mutation(
        description="ADMIN, or a SENIOR in a workflow they review: pin an open item to a "
        "reviewer (user id) or a team (key); both null unpins it. Only they may then claim or "
        "decide it; others get Forbidden. An ASSIGNED event."
    )
    @returns_problems[RecommendationResult](NotFound, Forbidden, InvalidInput, Conflict)
    async def assign(
        self,
        info: Info,
        id: strawberry.ID,
        reviewer: strawberry.ID | None = None,
        team: str | None = None,
    ) -> RecommendationResult:
        item = await info.context.run(
            team_cases.assign, str(id), str(reviewer) if reviewer is not None else None, team
        )
        return RecommendationSuccess(
            recommendation=Recommendation.from_domain(item, info.context.now)
        )
