"""The outbox policy: what a change publishes, and to whom.

Every use case that changes an item records its queue events here, in its own unit
of work, so that nothing committed can be left unpublished or undelivered:

- events about canaries publish nothing: a canary is seen by its reviewer only
  (no outbox row, no subscription, no webhook);
- every other event goes to the outbox, and fans out to each active webhook of its
  workflow that wants its kind: one PENDING delivery, due at once, and a
  WEBHOOK_DELIVERY job that sends it after commit.

The repositories only store what they are given.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from domain.events import QueueEvent, QueueEventKind
from domain.ids import new_id
from domain.jobs import Job, JobKind
from domain.ports import UnitOfWork
from domain.webhooks import DeliveryStatus, Webhook, WebhookDelivery


def published(events: Iterable[QueueEvent]) -> list[QueueEvent]:
    """The events that are published: all but those about canaries."""
    return [e for e in events if not e.recommendation.canary]


def deliveries_for(events: Sequence[QueueEvent], hooks: Sequence[Webhook]) -> list[WebhookDelivery]:
    """One delivery per (event, webhook of its workflow that wants its kind), due at the
    time of the first event; event by event, in the webhooks' order."""
    if not events:
        return []
    now = events[0].at
    return [
        _delivery(hook, event.id, event.kind, now)
        for event in events
        for hook in hooks
        if hook.workflow_id == event.workflow_id and hook.wants(event.kind)
    ]


def checkpoint_deliveries(
    event_id: str, at: datetime, hooks: Sequence[Webhook]
) -> list[WebhookDelivery]:
    """One delivery of a CHECKPOINT event per webhook that wants it, due at once."""
    kind = QueueEventKind.CHECKPOINT
    return [_delivery(hook, event_id, kind, at) for hook in hooks if hook.wants(kind)]


def _delivery(hook: Webhook, event_id: str, kind: QueueEventKind, at: datetime) -> WebhookDelivery:
    return WebhookDelivery(
        id=new_id("dlv"),
        webhook_id=hook.id,
        event_id=event_id,
        event_kind=kind,
        status=DeliveryStatus.PENDING,
        attempts=0,
        created_at=at,
        next_attempt_at=at,
    )


async def record(uow: UnitOfWork, events: Sequence[QueueEvent]) -> None:
    """Store the published events, their webhook deliveries and the jobs that send them."""
    events = published(events)
    if not events:
        return
    await uow.events.add(events)
    hooks = await uow.webhooks.active_of({e.workflow_id for e in events})
    deliveries = deliveries_for(events, hooks)
    if not deliveries:
        return
    await uow.webhooks.add_deliveries(deliveries)
    await uow.jobs.add_many(
        [Job.new(JobKind.WEBHOOK_DELIVERY, d.created_at, delivery_id=d.id) for d in deliveries]
    )
