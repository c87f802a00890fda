"""Publishing the outbox: right after commit, and by a relay for whatever was left behind.

Publishing takes the unpublished events of the touched recommendations in
commit order (`seq`), hands them to the bus and marks them published, in one
transaction that locks those rows: two publishers never interleave one
recommendation's events, so every subscriber sees them in commit order. If the
bus refuses (Redis down), the transaction rolls back and the relay tries again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from domain.clock import as_utc, utcnow
from domain.events import QueueEvent
from store import mappers
from store.database import Database
from store.tables import events_t
from workers.bus import Envelope, EventBus

log = logging.getLogger("arbiter.outbox")

RELAY_BATCH = 500


def queue_envelope(event: QueueEvent) -> Envelope:
    row = mappers.event_row(event)
    row["at"] = event.at.isoformat()
    row["seq"] = event.seq
    return Envelope("queue", event.id, row, event.workflow_id)


def _envelope_from_row(row: Any) -> Envelope:
    """What queue_envelope(mappers.event(row)) gives, without rebuilding the item: the
    row holds the item's snapshot as written."""
    at = as_utc(row.at)
    assert at is not None
    payload = {
        "id": row.id,
        "kind": row.kind,
        "workflow_id": row.workflow_id,
        "recommendation_id": row.recommendation_id,
        "tier": row.tier,
        "actor_id": row.actor_id,
        "decision_id": row.decision_id,
        "previous_tier": row.previous_tier,
        "at": at.isoformat(),
        "recommendation": row.recommendation,
        "seq": row.seq,
    }
    return Envelope("queue", row.id, payload, row.workflow_id)


class OutboxPublisher:
    """One per process: a task publishes after commits; a relay sweeps up leftovers."""

    def __init__(
        self,
        database: Database,
        bus: EventBus,
        relay_every: float = 2.0,
        relay_after: timedelta = timedelta(seconds=2),
        on_published: Any = None,
    ) -> None:
        self.database = database
        self.bus = bus
        self.relay_every = relay_every
        self.relay_after = relay_after
        self.on_published = on_published
        self._pending: set[str] = set()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._sessions = database.write_sessions()

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._publish_loop(), name="arbiter-outbox-publisher"),
            asyncio.create_task(self._relay_loop(), name="arbiter-outbox-relay"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []

    def notify(self, recommendation_ids: Iterable[str]) -> None:
        """Committed events touch these items: publish them soon (never blocks)."""
        self._pending.update(recommendation_ids)
        self._wake.set()

    async def _publish_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._pending = self._pending, set()
            if not batch:
                continue
            try:
                await self.publish_for(batch)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the relay will try again
                log.warning("publishing events failed (%s); the relay will retry", error)

    async def publish_for(self, recommendation_ids: Iterable[str]) -> int:
        """Publish every unpublished event of these items, in commit order."""
        ids = sorted(set(recommendation_ids))
        condition = events_t.c.published_at.is_(None) & events_t.c.recommendation_id.in_(ids)
        return await self._publish_where(condition, limit=None)

    async def relay_once(self, now: datetime | None = None) -> int:
        """Publish events left unpublished for longer than `relay_after`."""
        cutoff = (now or utcnow()) - self.relay_after
        condition = events_t.c.published_at.is_(None) & (events_t.c.at <= cutoff)
        total = 0
        while True:
            published = await self._publish_where(condition, limit=RELAY_BATCH)
            total += published
            if published < RELAY_BATCH:
                return total

    async def _publish_where(self, condition: Any, limit: int | None) -> int:
        async with self._sessions() as session:
            # One statement picks the events, locks them in commit order and marks them
            # published; if the bus then refuses them, the rollback unmarks them.
            chosen = sa.select(events_t.c.seq).where(condition).order_by(events_t.c.seq)
            if limit is not None:
                chosen = chosen.limit(limit)
            marked = (
                events_t.update()
                .where(events_t.c.seq.in_(chosen.with_for_update()))
                .values(published_at=utcnow())
                .returning(*events_t.c)
            )
            rows: Sequence[Any] = sorted(await session.execute(marked), key=lambda r: r.seq)
            if not rows:
                await session.rollback()
                return 0
            envelopes = [_envelope_from_row(row) for row in rows]
            await self.bus.publish(envelopes)
            await session.commit()
        if self.on_published is not None:
            self.on_published(envelopes)
        return len(envelopes)

    async def _relay_loop(self) -> None:
        while True:
            await asyncio.sleep(self.relay_every)
            try:
                await self.relay_once()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("outbox relay failed (%s); retrying in %.0fs", error, self.relay_every)

    async def replay_since(self, since: datetime) -> list[Envelope]:
        """Committed events since `since`, published or not (for a reconnecting listener)."""
        async with self.database.read_sessions()() as session:
            rows = await session.execute(
                sa.select(events_t).where(events_t.c.at >= since).order_by(events_t.c.seq)
            )
            return [_envelope_from_row(row) for row in rows]
