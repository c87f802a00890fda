"""Webhooks and their deliveries, as use cases and the delivery job write them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from domain.events import QueueEvent
from domain.webhooks import Webhook, WebhookDelivery
from store import mappers
from store.tables import deliveries_t, events_t, webhooks_t


class SqlWebhooks:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, hook: Webhook, secret: str) -> None:
        await self.session.execute(
            webhooks_t.insert().values(
                id=hook.id,
                workflow_id=hook.workflow_id,
                url=hook.url,
                events=[k.value for k in hook.events],
                secret=secret,
                active=hook.active,
                created_at=hook.created_at,
            )
        )

    async def get(self, hook_id: str) -> tuple[Webhook, str] | None:
        row = (
            await self.session.execute(
                sa.select(webhooks_t).where(
                    webhooks_t.c.id == hook_id, webhooks_t.c.deleted_at.is_(None)
                )
            )
        ).first()
        return (mappers.webhook(row), row.secret) if row else None

    async def delete(self, hook_id: str, now: datetime) -> None:
        await self.session.execute(
            webhooks_t.update()
            .where(webhooks_t.c.id == hook_id)
            .values(active=False, deleted_at=now)
        )

    async def delivery(
        self, delivery_id: str, *, for_update: bool = False
    ) -> WebhookDelivery | None:
        query = sa.select(deliveries_t).where(deliveries_t.c.id == delivery_id)
        if for_update:
            query = query.with_for_update()
        row = (await self.session.execute(query)).first()
        return mappers.delivery(row) if row else None

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
        row = (
            await self.session.execute(sa.select(events_t).where(events_t.c.id == event_id))
        ).first()
        return mappers.event(row) if row else None

    async def active_of(self, workflow_ids: Iterable[str]) -> list[Webhook]:
        """The active webhooks of these workflows (deleted ones are inactive)."""
        query = sa.select(webhooks_t).where(
            webhooks_t.c.workflow_id.in_(set(workflow_ids)), webhooks_t.c.active.is_(True)
        )
        return [mappers.webhook(row) for row in await self.session.execute(query)]

    async def add_deliveries(self, deliveries: Sequence[WebhookDelivery]) -> None:
        """Store new deliveries, as domain.outbox made them."""
        if not deliveries:
            return
        rows = [
            {
                "id": d.id,
                "webhook_id": d.webhook_id,
                "event_id": d.event_id,
                "event_kind": d.event_kind.value,
                "status": d.status.value,
                "attempts": d.attempts,
                "next_attempt_at": d.next_attempt_at,
                "created_at": d.created_at,
            }
            for d in deliveries
        ]
        await self.session.execute(deliveries_t.insert(), rows)
