"""modelEvents(workflow): TRAINED, PROMOTED (with the feedback report), REJECTED, DRIFT
(with its message)."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from api.schema.common.problems import PublicError
from api.schema.common.types import Info
from api.schema.learning.types import FeedbackReport, ModelEvent, ModelVersion
from api.schema.live.subscriptions import SeenIds, skip_unreadable
from domain.learning import ModelEventKind
from domain.messages import MessageError, MessageType, decode_model_event
from store.learning import LearningReads


@strawberry.type
class LearningSubscriptions:
    @strawberry.subscription(
        description="A workflow's models as they are trained, promoted and drift."
    )
    async def model_events(self, info: Info, workflow: str) -> AsyncGenerator[ModelEvent, None]:
        ctx = info.context
        found = await (await ctx.reads()).workflow_by_key(workflow)
        if found is None:
            raise PublicError(f"no workflow with key {workflow!r}", "NOT_FOUND")
        subscription = ctx.services.bus.subscribe()
        seen = SeenIds()
        try:
            await ctx.release()
            async for envelope in subscription:
                if envelope.type != MessageType.MODEL or envelope.workflow_id != found.id:
                    continue
                try:
                    event = decode_model_event(envelope.data)
                except MessageError as error:
                    skip_unreadable(envelope, error)
                    continue
                if not seen.first_time(event.id):
                    continue
                model = LearningReads.over(await ctx.reads())
                version = await model.model(event.model_id)
                if version is None:
                    continue
                kind = event.kind
                report = (
                    await model.feedback_report(found.id)
                    if kind is ModelEventKind.PROMOTED
                    else None
                )
                yield ModelEvent(
                    id=strawberry.ID(event.id),
                    kind=kind,
                    model=ModelVersion.from_domain(version),
                    report=FeedbackReport.from_domain(report) if report else None,
                    message=event.message,
                )
                await ctx.release()
        finally:
            subscription.close()
            await ctx.close()
