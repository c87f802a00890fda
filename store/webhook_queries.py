"""The read side of webhooks: a workflow's webhooks and their latest deliveries."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from domain.webhooks import Webhook, WebhookDelivery
from store.queries import Reads
from store.tables import WebhookDeliveryRow, WebhookRow, deliveries_t, events_t, webhooks_t

MAX_DELIVERIES = 200


class WebhookReads(Reads):
    """Webhook queries over a request's read session (shares its lock)."""

    @classmethod
    def over(cls, model: Reads) -> WebhookReads:
        return cls(model.session, model._lock)

    async def webhook(self, hook_id: str) -> Webhook | None:
        """One webhook by id, deleted ones included (they read as inactive)."""
        rows = await self._rows(sa.select(WebhookRow).where(webhooks_t.c.id == hook_id))
        return rows[0].to_domain() if rows else None

    async def webhooks_of(
        self, workflow_id: str, *, include_deleted: bool = False
    ) -> list[Webhook]:
        """The workflow's webhooks, oldest first; deleted ones (inactive) only when asked."""
        query = (
            sa.select(WebhookRow)
            .where(webhooks_t.c.workflow_id == workflow_id)
            .order_by(webhooks_t.c.created_at, webhooks_t.c.id)
        )
        if not include_deleted:
            query = query.where(webhooks_t.c.deleted_at.is_(None))
        return [row.to_domain() for row in await self._rows(query)]

    async def deliveries_of(
        self, hook_ids: Iterable[str], first: int
    ) -> dict[str, list[WebhookDelivery]]:
        """Up to `first` (at most MAX_DELIVERIES) deliveries of each webhook, newest first
        (by creation, then by the event's commit order), in one statement."""
        ids = set(hook_ids)
        first = max(0, min(first, MAX_DELIVERIES))
        found: dict[str, list[WebhookDelivery]] = {hook_id: [] for hook_id in ids}
        if not ids or first == 0:
            return found
        newest_first = sa.func.row_number().over(
            partition_by=deliveries_t.c.webhook_id,
            order_by=(
                deliveries_t.c.created_at.desc(),
                sa.func.coalesce(events_t.c.seq, 0).desc(),
                deliveries_t.c.id.desc(),
            ),
        )
        ranked = (
            sa.select(deliveries_t, newest_first.label("rank"))
            .select_from(deliveries_t.outerjoin(events_t, events_t.c.id == deliveries_t.c.event_id))
            .where(deliveries_t.c.webhook_id.in_(ids))
            .subquery()
        )
        delivery = aliased(WebhookDeliveryRow, ranked)
        query = (
            sa.select(delivery)
            .where(ranked.c.rank <= first)
            .order_by(ranked.c.webhook_id, ranked.c.rank)
        )
        for row in await self._rows(query):
            found[row.webhook_id].append(row.to_domain())
        return found
