"""divergence, reviewerStats, simulatePolicy."""

from __future__ import annotations

import strawberry

from api.schema.analytics.types import DivergenceReport, PolicySimulation, ReviewerStats
from api.schema.common.enums import Window
from api.schema.common.problems import PublicError
from api.schema.common.types import Info
from api.schema.workflows.inputs import EscalationPolicyInput
from domain import analytics
from domain.analytics import Scope
from domain.errors import ForbiddenError, InvalidInputError
from domain.model import Workflow
from store.analytics_queries import AnalyticsReads


def scope_of(info: Info, doing: str) -> Scope:
    viewer = info.context.viewer
    try:
        return analytics.analytics_scope(viewer.role, viewer.id, doing)
    except ForbiddenError as error:
        raise PublicError(error.message, "FORBIDDEN") from error


async def analytics_workflow(info: Info, key: str) -> tuple[AnalyticsReads, Workflow]:
    model = await info.context.reads()
    found = await model.workflow_by_key(key)
    if found is None:
        raise PublicError(f"no workflow with key {key!r}", "NOT_FOUND")
    if found.id in await info.context.hidden_workflows():
        raise PublicError(
            f"workflow {key!r} is reviewed by teams you are not in; its figures are theirs",
            "FORBIDDEN",
        )
    return AnalyticsReads.over(model), found


@strawberry.type
class AnalyticsQueries:
    @strawberry.field(
        description="ANALYST, SENIOR, ADMIN: how human calls diverged from the proposals "
        "over the window. SERVICE gets a FORBIDDEN error; an unknown workflow, NOT_FOUND."
    )
    async def divergence(self, info: Info, workflow: str, window: Window) -> DivergenceReport:
        scope = scope_of(info, "reading divergence")
        model, found = await analytics_workflow(info, workflow)
        report = await model.divergence(found, window, info.context.now, scope)
        return DivergenceReport.from_domain(report, found)

    @strawberry.field(
        description="SENIOR, ADMIN: every reviewer's last 30 days, busiest first, with the "
        "reliability of their votes on items that need several reviews; an ANALYST gets "
        "only its own row. SERVICE gets a FORBIDDEN error."
    )
    async def reviewer_stats(self, info: Info, workflow: str) -> list[ReviewerStats]:
        scope = scope_of(info, "reading reviewer stats")
        model, found = await analytics_workflow(info, workflow)
        stats = await model.reviewer_stats(found, info.context.now, scope)
        return [ReviewerStats.from_domain(s) for s in stats]

    @strawberry.field(
        description="SENIOR, ADMIN: what the current policy merged with `input` would have "
        "done with the window's human-decided items. Invalid input is a BAD_USER_INPUT "
        "error naming the field (extensions.field); other roles get FORBIDDEN."
    )
    async def simulate_policy(
        self,
        info: Info,
        workflow: str,
        input: EscalationPolicyInput,
        window: Window | None = Window.MONTH,
    ) -> PolicySimulation:
        try:
            analytics.require_simulation_rights(info.context.viewer.role)
        except ForbiddenError as error:
            raise PublicError(error.message, "FORBIDDEN") from error
        model, found = await analytics_workflow(info, workflow)
        try:
            policy = analytics.proposed_policy(found.policy, input.changes())
        except InvalidInputError as error:
            problem = PublicError(error.message, "BAD_USER_INPUT")
            problem.extensions["field"] = error.field or "input"
            raise problem from error
        window = window or Window.MONTH  # an explicit null: the default
        simulation = await model.simulate(found, policy, window, info.context.now)
        return PolicySimulation.from_domain(simulation)
