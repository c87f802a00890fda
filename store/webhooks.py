"""Webhooks and their deliveries, as use cases and the delivery job write them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from domain.events import QueueEvent
from domain.webhooks import Webhook, WebhookDelivery
from store.loading import load_all, load_first
from store.tables import (
    EventRow,
    WebhookDeliveryRow,
    WebhookRow,
    deliveries_t,
    events_t,
    values_of,
    webhooks_t,
)

# Built once: every decision asks which webhooks want its events.
_ACTIVE_OF = sa.select(WebhookRow).where(
    webhooks_t.c.workflow_id.in_(sa.bindparam("workflow_ids", expanding=True)),
    webhooks_t.c.active.is_(True),
)


class SqlWebhooks:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.changed = False
        """Whether this unit of work added or deleted a webhook."""

    async def add(self, hook: Webhook, secret: str) -> None:
        self.changed = True
        await self.session.execute(
            webhooks_t.insert().values(values_of(WebhookRow.of(hook, secret)))
        )

    async def get(self, hook_id: str) -> tuple[Webhook, str] | None:
        row = await load_first(
            self.session,
            sa.select(WebhookRow).where(
                webhooks_t.c.id == hook_id, webhooks_t.c.deleted_at.is_(None)
            ),
        )
        return (row.to_domain(), row.secret) if row else None

    async def delete(self, hook_id: str, now: datetime) -> None:
        self.changed = True
        await self.session.execute(
            webhooks_t.update()
            .where(webhooks_t.c.id == hook_id)
            .values(active=False, deleted_at=now)
        )

    async def delivery(
        self, delivery_id: str, *, for_update: bool = False
    ) -> WebhookDelivery | None:
        query = sa.select(WebhookDeliveryRow).where(deliveries_t.c.id == delivery_id)
        if for_update:
            query = query.with_for_update()
        row = await load_first(self.session, query)
        return row.to_domain() if row else None

    async def save_delivery(self, delivery: WebhookDelivery, expected_attempts: int) -> bool:
        """Compare-and-swap on the attempt count, so that two workers never both record
        the same attempt."""
        result: Any = await self.session.execute(
            deliveries_t.update()
            .where(deliveries_t.c.id == delivery.id, deliveries_t.c.attempts == expected_attempts)
            .values(
                status=delivery.status.value,
                attempts=delivery.attempts,
                last_error=delivery.last_error,
                last_attempt_at=delivery.last_attempt_at,
                delivered_at=delivery.delivered_at,
                next_attempt_at=delivery.next_attempt_at,
            )
        )
        return bool(result.rowcount == 1)

    async def event(self, event_id: str) -> QueueEvent | None:
        row = await load_first(self.session, sa.select(EventRow).where(events_t.c.id == event_id))
        return row.to_domain() if row else None

    async def active_of(self, workflow_ids: Iterable[str]) -> list[Webhook]:
        """The active webhooks of these workflows (deleted ones are inactive)."""
        return [
            row.to_domain()
            for row in await load_all(
                self.session, _ACTIVE_OF, {"workflow_ids": sorted(set(workflow_ids))}
            )
        ]

    async def add_deliveries(self, deliveries: Sequence[WebhookDelivery]) -> None:
        """Store new deliveries, as domain.outbox made them."""
        if not deliveries:
            return
        rows = [values_of(WebhookDeliveryRow.of(d)) for d in deliveries]
        await self.session.execute(deliveries_t.insert(), rows)
