"""Webhook, WebhookDelivery, DeliveryStatus."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.dataloader import DataLoader

from api.schema.common.enums import DeliveryStatus, QueueEventKind
from api.schema.common.problems import PublicError
from api.schema.common.types import Info, Node
from api.schema.workflows.types import Workflow, load_workflow
from domain import webhooks
from store.webhook_queries import MAX_DELIVERIES, WebhookReads

DEFAULT_DELIVERIES = 20

DeliveryKey = tuple[str, int]  # (webhook id, how many)
DeliveryLoader = DataLoader[DeliveryKey, list[webhooks.WebhookDelivery]]


@strawberry.type(name="WebhookDelivery")
class WebhookDelivery:
    event_id: strawberry.ID = strawberry.field(
        description="The event's id: the X-Arbiter-Event-Id of every attempt."
    )
    event_kind: QueueEventKind
    status: DeliveryStatus
    attempts: int = strawberry.field(description="Attempts made so far.")
    last_error: str | None = strawberry.field(
        description="What went wrong on the latest failed attempt (kept once a later "
        "attempt succeeds), or why the delivery was given up."
    )
    last_attempt_at: datetime | None
    delivered_at: datetime | None
    next_attempt_at: datetime | None = strawberry.field(
        description="PENDING deliveries: when the next attempt is due."
    )
    created_at: datetime

    @classmethod
    def from_domain(cls, d: webhooks.WebhookDelivery) -> WebhookDelivery:
        pending = d.status is webhooks.DeliveryStatus.PENDING
        return cls(
            event_id=strawberry.ID(d.event_id),
            event_kind=d.event_kind,
            status=d.status,
            attempts=d.attempts,
            last_error=d.last_error,
            last_attempt_at=d.last_attempt_at,
            delivered_at=d.delivered_at,
            next_attempt_at=d.next_attempt_at if pending else None,
            created_at=d.created_at,
        )


def deliveries_loader(info: Info) -> DeliveryLoader:
    """Batches the deliveries of sibling webhooks (one list of them) into one statement
    per distinct `first`."""

    async def load(keys: list[DeliveryKey]) -> list[list[webhooks.WebhookDelivery]]:
        model = WebhookReads.over(await info.context.reads())
        wanted: dict[int, set[str]] = {}
        for hook_id, first in keys:
            wanted.setdefault(first, set()).add(hook_id)
        found: dict[DeliveryKey, list[webhooks.WebhookDelivery]] = {}
        for first, hook_ids in wanted.items():
            for hook_id, deliveries in (await model.deliveries_of(hook_ids, first)).items():
                found[(hook_id, first)] = deliveries
        return [found.get(key, []) for key in keys]

    return DataLoader(load_fn=load)


@strawberry.type(name="Webhook")
class Webhook(Node):
    id: strawberry.ID
    url: str
    events: list[QueueEventKind]
    active: bool = strawberry.field(description="False once the webhook was deleted.")
    created_at: datetime
    _hook: strawberry.Private[webhooks.Webhook]
    _loader: strawberry.Private[DeliveryLoader | None] = None

    @strawberry.field
    async def workflow(self, info: Info) -> Workflow:
        return await load_workflow(info, self._hook.workflow_id)

    @strawberry.field(
        description=f"Its deliveries, newest first; `first` is capped at {MAX_DELIVERIES}."
    )
    async def deliveries(
        self, info: Info, first: int | None = DEFAULT_DELIVERIES
    ) -> list[WebhookDelivery]:
        count = DEFAULT_DELIVERIES if first is None else first
        if count < 0:
            raise PublicError("first must not be negative", "BAD_USER_INPUT")
        loader = self._loader or deliveries_loader(info)
        found = await loader.load((self._hook.id, min(count, MAX_DELIVERIES)))
        return [WebhookDelivery.from_domain(d) for d in found]

    @classmethod
    def from_domain(cls, hook: webhooks.Webhook, loader: DeliveryLoader | None = None) -> Webhook:
        return cls(
            id=strawberry.ID(hook.id),
            url=hook.url,
            events=list(hook.events),
            active=hook.active,
            created_at=hook.created_at,
            _hook=hook,
            _loader=loader,
        )
