"""node(id): any object by its opaque id."""

from __future__ import annotations

import strawberry

from api.schema.common.types import Info, Node
from api.schema.decisions.types import Decision, Override
from api.schema.jobs.types import Job
from api.schema.recommendations.types import Recommendation
from api.schema.teams.types import Team
from api.schema.users.types import User
from api.schema.webhooks.types import Webhook
from api.schema.workflows.types import Workflow
from domain.enums import Role
from domain.ids import kind_of
from store.webhook_queries import WebhookReads


@strawberry.type
class NodeQueries:
    @strawberry.field(
        description="Any object by its id; null when it does not exist or is not yours to see."
    )
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        ctx, key = info.context, str(id)
        kind = kind_of(key)
        if kind == "User":
            user = await ctx.loaders.user.load(key)
            return User.from_domain(user) if user else None
        if kind == "Workflow":
            workflow = await ctx.loaders.workflow.load(key)
            return Workflow.from_domain(workflow) if workflow else None
        if kind == "Recommendation":
            item = await ctx.loaders.recommendation.load(key)
            if item is None or not await ctx.sees(item.tier, item.workflow_id):
                return None
            return Recommendation.from_domain(item, ctx.now)
        if kind == "Decision":
            decision = await ctx.loaders.decision.load(key)
            if decision is None or not await ctx.sees_decision(decision):
                return None
            return Decision.from_domain(decision)
        if kind == "Team":
            team = await ctx.loaders.team.load(key)
            return Team.from_domain(team) if team else None
        if kind == "Job":
            if ctx.viewer.role is not Role.ADMIN:
                return None
            job = await (await ctx.reads()).job(key)
            return Job.from_domain(job) if job else None
        if kind == "Webhook":
            if ctx.viewer.role is not Role.ADMIN:
                return None
            hook = await WebhookReads.over(await ctx.reads()).webhook(key)
            return Webhook.from_domain(hook) if hook else None
        if kind == "Override":
            model = await ctx.reads()
            override = (await model.overrides([key])).get(key)
            if override is None:
                return None
            decision = await ctx.loaders.decision.load(override.decision_id)
            if decision is None or not await ctx.sees(decision.tier, decision.workflow_id):
                return None
            return Override.from_domain(override)
        return None
