"""queueEvents(workflow, tiers) and jobProgress(id), over graphql-transport-ws and graphql-ws.

Each subscription listens to this process's share of the event bus (every
replica hears every change through Redis), drops what it already delivered
(events can arrive twice: at-least-once), and keeps what the caller may see.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncGenerator

import strawberry

from api.schema.common.enums import Tier
from api.schema.common.problems import PublicError
from api.schema.common.types import Info
from api.schema.jobs.types import Job
from api.schema.live import executor_memo
from api.schema.live.types import QueueEvent
from domain.enums import Role
from domain.events import QueueEventKind
from domain.messages import MessageError, MessageType, decode_job, decode_queue_event
from workers.bus import Envelope, SubscriberOverflow

log = logging.getLogger("arbiter.subscriptions")

TEAMS_RECHECK_SECONDS = 5.0
"""How often a subscription asks again whether its workflow is still the caller's."""
SEEN_MEMORY = 10_000

executor_memo.install()  # graphql-core 3.3.2 leaks per event otherwise; see the module


class SeenIds:
    """The ids delivered lately, bounded (oldest forgotten first)."""

    def __init__(self, size: int = SEEN_MEMORY) -> None:
        self.size = size
        self._ids: OrderedDict[str, None] = OrderedDict()

    def first_time(self, key: str) -> bool:
        if key in self._ids:
            return False
        self._ids[key] = None
        if len(self._ids) > self.size:
            self._ids.popitem(last=False)
        return True


def skip_unreadable(envelope: Envelope, error: MessageError) -> None:
    """Log a message this replica cannot decode; the subscription carries on."""
    log.warning("skipped a %s message this replica cannot read (%s)", envelope.type, error)


@strawberry.type
class LiveSubscriptions:
    @strawberry.subscription(
        description="Changes to a workflow's items, as they commit: ADDED, CLAIMED, RELEASED, "
        "DECIDED, FLAGGED, ESCALATED, ASSIGNED. Only tiers your role may see, in workflows "
        "you review."
    )
    async def queue_events(
        self, info: Info, workflow: str, tiers: list[Tier] | None = None
    ) -> AsyncGenerator[QueueEvent, None]:
        ctx = info.context
        found = await (await ctx.reads()).workflow_by_key(workflow)
        if found is None:
            raise PublicError(f"no workflow with key {workflow!r}", "NOT_FOUND")
        wanted = set(await ctx.tiers_in(found.id, tiers))
        checked = time.monotonic()
        subscription = ctx.services.bus.subscribe()
        seen = SeenIds()
        try:
            await ctx.release()  # hold no database connection while waiting
            async for envelope in subscription:
                if envelope.type != MessageType.QUEUE or envelope.workflow_id != found.id:
                    continue
                try:
                    event = decode_queue_event(envelope.data)
                except MessageError as error:
                    skip_unreadable(envelope, error)
                    continue
                if time.monotonic() - checked > TEAMS_RECHECK_SECONDS:
                    # A reviewer taken off the workflow's teams stops hearing of its items.
                    wanted, checked = set(await ctx.tiers_in(found.id, tiers)), time.monotonic()
                    await ctx.release()
                left = Tier(event.previous_tier) if event.previous_tier else None
                visible = event.recommendation.tier in wanted or (
                    event.kind is QueueEventKind.ESCALATED and left in wanted
                )
                if not visible or not seen.first_time(envelope.id):
                    continue
                yield QueueEvent.from_domain(event, ctx.now)
                # Its nested fields are resolved by the time we resume.
                await ctx.release()
                # Let the other subscribers have this event before we take the next one:
                # a burst then reaches everyone event by event (the next queue.get()
                # would not suspend while our queue is not empty).
                await asyncio.sleep(0)
        except SubscriberOverflow as error:
            raise PublicError(
                f"this subscription {error}; subscribe again and re-read the queue",
                "SLOW_SUBSCRIBER",
            ) from error
        finally:
            subscription.close()
            await ctx.close()

    @strawberry.subscription(
        description="ADMIN: a job's state and progress, from now until it ends."
    )
    async def job_progress(self, info: Info, id: strawberry.ID) -> AsyncGenerator[Job, None]:
        ctx = info.context
        if ctx.viewer.role is not Role.ADMIN:
            raise PublicError("jobProgress needs the role ADMIN", "FORBIDDEN")
        subscription = ctx.services.bus.subscribe()  # before reading: nothing slips between
        try:
            current = await (await ctx.reads()).job(str(id))
            if current is None:
                raise PublicError(f"no job {id}", "NOT_FOUND")
            await ctx.release()
            yield Job.from_domain(current)
            if current.finished:
                return
            async for envelope in subscription:
                if envelope.type != MessageType.JOB:
                    continue
                try:
                    job = decode_job(envelope.data)
                except MessageError as error:
                    skip_unreadable(envelope, error)
                    continue
                if job.id != str(id):
                    continue
                yield Job.from_domain(job)
                await ctx.release()
                if job.finished:
                    return
        finally:
            subscription.close()
            await ctx.close()
