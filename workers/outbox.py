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
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from domain.clock import utcnow
from domain.events import QueueEvent
from domain.messages import MessageType, QueueEventMessage
from store.database import Database
from store.outbox import SqlOutbox
from workers.bus import Envelope, EventBus

log = logging.getLogger("arbiter.outbox")

RELAY_BATCH = 500
STOP_GRACE_SECONDS = 5.0
KNOWN_SNAPSHOTS = 20_000
"""At most this many snapshots of committed events are kept for publishing."""


def queue_envelope(event: QueueEvent) -> Envelope:
    """A queue event on the bus."""
    return message_envelope(QueueEventMessage.of(event))


def message_envelope(message: QueueEventMessage) -> Envelope:
    return Envelope(MessageType.QUEUE, message.id, message.encode(), message.workflow_id)


class OutboxPublisher:
    """One per process: a task publishes after commits; a relay sweeps up leftovers."""

    def __init__(
        self,
        database: Database,
        bus: EventBus,
        relay_every: float = 2.0,
        relay_after: timedelta = timedelta(seconds=2),
        on_published: Callable[[list[Envelope]], None] | None = None,
    ) -> None:
        self.database = database
        self.bus = bus
        self.relay_every = relay_every
        self.relay_after = relay_after
        self.on_published = on_published
        self._pending: set[str] = set()
        self._known: dict[str, Mapping[str, Any]] = {}
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.outbox = SqlOutbox(database)

    async def start(self) -> None:
        self._stopping.clear()
        self._tasks = [
            asyncio.create_task(self._publish_loop(), name="arbiter-outbox-publisher"),
            asyncio.create_task(self._relay_loop(), name="arbiter-outbox-relay"),
        ]

    async def stop(self) -> None:
        """Publish what commits have announced, finish a relay pass under way, then stop.

        Cancelled inside its transaction instead, a publish could leave its connection
        checked out with the transaction open, and on SQLite the write lock held after
        the process's database was closed. Loops still busy after STOP_GRACE_SECONDS
        are cancelled all the same (the relay publishes the rest after the next start)."""
        self._stopping.set()
        self._wake.set()
        if self._tasks:
            _, late = await asyncio.wait(self._tasks, timeout=STOP_GRACE_SECONDS)
            for task in late:
                task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []

    def notify(
        self,
        recommendation_ids: Iterable[str],
        snapshots: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        """Committed events touch these items: publish them soon (never blocks).
        `snapshots` are the item snapshots the events were written with, by event id."""
        self._pending.update(recommendation_ids)
        if snapshots:
            self._known.update(snapshots)
            # Another process may publish some of them: the oldest are forgotten (and
            # would be read back if this process ever published them after all).
            while len(self._known) > KNOWN_SNAPSHOTS:
                del self._known[next(iter(self._known))]
        self._wake.set()

    async def _publish_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._pending = self._pending, set()
            if batch:
                try:
                    await self.publish_for(batch)
                except asyncio.CancelledError:
                    raise
                except Exception as error:  # the relay will try again
                    log.warning("publishing events failed (%s); the relay will retry", error)
            if self._stopping.is_set() and not self._pending:
                return

    async def publish_for(self, recommendation_ids: Iterable[str]) -> int:
        """Publish every unpublished event of these items, in commit order."""
        return await self._publish(recommendation_ids=list(recommendation_ids))

    async def relay_once(self, now: datetime | None = None) -> int:
        """Publish events left unpublished for longer than `relay_after`."""
        cutoff = (now or utcnow()) - self.relay_after
        total = 0
        while True:
            published = await self._publish(committed_by=cutoff, limit=RELAY_BATCH)
            total += published
            if published < RELAY_BATCH:
                return total

    async def _publish(
        self,
        *,
        recommendation_ids: list[str] | None = None,
        committed_by: datetime | None = None,
        limit: int | None = None,
    ) -> int:
        # The events stay marked published only if the bus takes them.
        async with self.outbox.take_unpublished(
            recommendation_ids=recommendation_ids,
            committed_by=committed_by,
            limit=limit,
            known=self._known,
        ) as messages:
            envelopes = [message_envelope(message) for message in messages]
            if envelopes:
                await self.bus.publish(envelopes)
        for message in messages:
            self._known.pop(message.id, None)
        if envelopes and self.on_published is not None:
            self.on_published(envelopes)
        return len(envelopes)

    async def _relay_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.relay_every)
            if self._stopping.is_set():
                return
            try:
                await self.relay_once()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("outbox relay failed (%s); retrying in %.0fs", error, self.relay_every)

    async def replay_since(self, since: datetime) -> list[Envelope]:
        """Committed events since `since`, published or not (for a reconnecting listener)."""
        return [message_envelope(m) for m in await self.outbox.committed_since(since)]
