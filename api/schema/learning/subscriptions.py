"""modelEvents(workflow): TRAINED, PROMOTED (with the feedback report), REJECTED."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from api.schema.common.problems import PublicError
from api.schema.common.types import Info
from api.schema.learning.types import FeedbackReport, ModelEvent, ModelVersion
from api.schema.live.subscriptions import SeenIds
from domain.learning import ModelEventKind
from store.learning import LearningReadModel


@strawberry.type
class LearningSubscriptions:
    @strawberry.subscription(description="A workflow's models as they are trained and promoted.")
    async def model_events(self, info: Info, workflow: str) -> AsyncGenerator[ModelEvent, None]:
        ctx = info.context
        found = await (await ctx.read_model()).workflow_by_key(workflow)
        if found is None:
            raise PublicError(f"no workflow with key {workflow!r}", "NOT_FOUND")
        subscription = ctx.services.bus.subscribe()
        seen = SeenIds()
        try:
            await ctx.release()
            async for envelope in subscription:
                if envelope.type != "model" or envelope.workflow_id != found.id:
                    continue
                if not seen.first_time(envelope.id):
                    continue
                model = LearningReadModel.over(await ctx.read_model())
                version = await model.model(str(envelope.data["model_id"]))
                if version is None:
                    continue
                kind = ModelEventKind(str(envelope.data["kind"]))
                report = (
                    await model.feedback_report(found.id)
                    if kind is ModelEventKind.PROMOTED
                    else None
                )
                yield ModelEvent(
                    id=strawberry.ID(envelope.id),
                    kind=kind,
                    model=ModelVersion.from_domain(version),
                    report=FeedbackReport.from_domain(report) if report else None,
                )
                await ctx.release()
        finally:
            subscription.close()
            await ctx.close()
