"""webhooks(workflow): ADMIN only."""

from __future__ import annotations

import strawberry

from api.schema.common.problems import PublicError
from api.schema.common.types import Info
from api.schema.webhooks.types import Webhook, deliveries_loader
from domain.enums import Role
from store.webhook_queries import WebhookReads


@strawberry.type
class WebhookQueries:
    @strawberry.field(
        description="ADMIN: a workflow's webhooks, oldest first. Other roles get a FORBIDDEN "
        "error; an unknown workflow, NOT_FOUND. Deleted ones (active: false) only with "
        "includeDeleted."
    )
    async def webhooks(
        self, info: Info, workflow: str, include_deleted: bool = False
    ) -> list[Webhook]:
        if info.context.viewer.role is not Role.ADMIN:
            raise PublicError("webhooks need the role ADMIN", "FORBIDDEN")
        model = await info.context.reads()
        found = await model.workflow_by_key(workflow)
        if found is None:
            raise PublicError(f"no workflow with key {workflow!r}", "NOT_FOUND")
        hooks = await WebhookReads.over(model).webhooks_of(
            found.id, include_deleted=include_deleted
        )
        loader = deliveries_loader(info)
        return [Webhook.from_domain(hook, loader) for hook in hooks]
