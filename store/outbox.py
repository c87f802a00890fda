"""The outbox as its publisher sees it: unpublished events taken in commit order.

Taking events picks them, locks them and marks them published in one statement, inside
a transaction that commits only once the caller has handed them to the bus: if the bus
refuses them, the rollback unmarks them and the relay tries again. Two publishers never
interleave one item's events, so every subscriber sees them in commit order.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from domain.clock import utcnow
from domain.messages import QueueEventMessage
from store.database import Database
from store.tables import events_t
from store.tables.outbox import event_message

_ALL_BUT_SNAPSHOT = [c for c in events_t.c if c.name != "recommendation"]

# Publishing reads few rows of a large table by index, whatever the statistics say: when
# the table grew fast since it was last analysed, PostgreSQL chose to read every event to
# find one batch's (50-230 ms a batch). And plain index scans, not bitmap ones, because
# only they mark the entries of published events' old versions dead as they pass them
# (the relay's bitmap scan of the unpublished index read 100,000 of them every 2 s, 200
# ms each time).
_INDEX_SCANS_ONLY = sa.select(
    sa.func.set_config("enable_seqscan", "off", True),
    sa.func.set_config("enable_bitmapscan", "off", True),
)


async def _snapshots(
    session: AsyncSession, rows: Sequence[Any], known: Mapping[str, Mapping[str, Any]]
) -> dict[str, Mapping[str, Any]]:
    """The item snapshot of each row's event: `known` ones as given, the others read."""
    snapshots = {row.id: known[row.id] for row in rows if row.id in known}
    unknown = [row.seq for row in rows if row.id not in snapshots]
    if unknown:
        c = events_t.c
        stored = await session.execute(sa.select(c.id, c.recommendation).where(c.seq.in_(unknown)))
        snapshots.update({row.id: row.recommendation for row in stored})
    return snapshots


class SqlOutbox:
    """Reads and marks the events table for the publisher, the relay and a reconnecting
    bus listener. Each method runs in a session of its own."""

    def __init__(self, database: Database) -> None:
        self._write_sessions = database.write_sessions()
        self._read_sessions = database.read_sessions()

    @asynccontextmanager
    async def take_unpublished(
        self,
        *,
        recommendation_ids: Iterable[str] | None = None,
        committed_by: datetime | None = None,
        limit: int | None = None,
        known: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> AsyncIterator[list[QueueEventMessage]]:
        """Yields the unpublished events of these items (or committed by then), at most
        `limit`, in commit order, marked published; the marks are committed when the block
        ends without an error and rolled back otherwise.

        `known` holds item snapshots by event id, as the events were written: those are
        not read back (a batch of 500 auto-approved items has 1,000 events, and turning
        their stored JSON back into text and objects was most of what publishing cost
        the database and a tenth of the server's time)."""
        c = events_t.c
        conditions: list[sa.ColumnElement[bool]] = [c.published_at.is_(None)]
        if committed_by is not None:
            conditions.append(c.at <= committed_by)
        async with self._write_sessions() as session:
            if session.bind.dialect.name == "postgresql":
                await session.execute(_INDEX_SCANS_ONLY)
            if recommendation_ids is not None:
                # The items' events are found by item first, whether published or not, and
                # only then narrowed to the unpublished: asked for both at once, PostgreSQL
                # may scan the index of unpublished events, which also holds every event
                # published since the table was last vacuumed (200 to 400 ms a batch, and
                # growing, under sustained ingestion).
                ids = sorted(set(recommendation_ids))
                of_items = await session.execute(
                    sa.select(c.seq).where(c.recommendation_id.in_(ids))
                )
                conditions.append(c.seq.in_(sorted(of_items.scalars())))
            chosen = sa.select(c.seq).where(*conditions).order_by(c.seq)
            if limit is not None:
                chosen = chosen.limit(limit)
            marked = (
                events_t.update()
                .where(c.seq.in_(chosen.with_for_update()))
                .values(published_at=utcnow())
                .returning(*_ALL_BUT_SNAPSHOT)
            )
            rows = sorted((await session.execute(marked)).all(), key=lambda r: r.seq)
            if not rows:
                await session.rollback()
                yield []
                return
            snapshots = await _snapshots(session, rows, known or {})
            yield [event_message(row, snapshots[row.id]) for row in rows]
            await session.commit()

    async def committed_since(self, since: datetime) -> list[QueueEventMessage]:
        """Every event committed since `since`, published or not, in commit order."""
        async with self._read_sessions() as session:
            query = sa.select(events_t).where(events_t.c.at >= since).order_by(events_t.c.seq)
            return [event_message(row) for row in await session.execute(query)]
