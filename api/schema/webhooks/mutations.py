"""createWebhook, deleteWebhook."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.schema.common.enums import QueueEventKind
from api.schema.common.problems import Forbidden, InvalidInput, NotFound, returns_problems
from api.schema.common.types import Info
from api.schema.webhooks.types import Webhook
from domain.usecases.webhooks import create_webhook, delete_webhook


@strawberry.type
class WebhookSuccess:
    webhook: Webhook
    secret: str | None = strawberry.field(
        default=None,
        description="The signing secret, shown once on creation: X-Arbiter-Signature is "
        "sha256=<hex HMAC-SHA256 of the raw body with it>.",
    )


WebhookResult = Annotated[
    WebhookSuccess | NotFound | Forbidden | InvalidInput, strawberry.union("WebhookResult")
]


@strawberry.type
class WebhookMutations:
    @strawberry.mutation(
        description="ADMIN: POST the workflow's events of these kinds to `url`, signed, "
        "retried with backoff until a 2xx answer. The answer carries the secret once."
    )
    @returns_problems[WebhookResult](NotFound, Forbidden, InvalidInput)
    async def create_webhook(
        self,
        info: Info,
        workflow: str,
        url: str,
        events: list[QueueEventKind],
    ) -> WebhookResult:
        hook, secret = await info.context.run(create_webhook, workflow, url, list(events))
        return WebhookSuccess(webhook=Webhook.from_domain(hook), secret=secret)

    @strawberry.mutation(
        description="ADMIN: stop delivering to a webhook; its pending deliveries end FAILED. "
        "An unknown or already deleted id is NotFound."
    )
    @returns_problems[WebhookResult](NotFound, Forbidden, InvalidInput)
    async def delete_webhook(self, info: Info, id: strawberry.ID) -> WebhookResult:
        hook = await info.context.run(delete_webhook, str(id))
        return WebhookSuccess(webhook=Webhook.from_domain(hook))
