"""The event bus: in-process by default, Redis pub/sub across replicas.

Either way every process fans messages out to its local subscribers through a
Hub. With Redis, a process publishes only to Redis and hears its own messages
back through its listener, so each replica's subscribers see every change,
once per delivery; subscribers dedupe redeliveries by envelope id.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

log = logging.getLogger("arbiter.bus")

CHANNEL = "arbiter:events"
CATCH_UP_MARGIN = timedelta(seconds=10)
SUBSCRIBER_BUFFER = 10_000


@dataclass(frozen=True)
class Envelope:
    """One message on the bus, as a transport sees it.

    `type` is a domain.messages.MessageType ("queue", "job" or "model") and `id` the
    message's delivery id (subscribers dedupe by it); `data` is the message in its
    domain encoding (domain.messages, with its `version`), which only the domain decodes.
    """

    type: str
    id: str
    data: dict[str, Any]
    workflow_id: str | None = None

    def encode(self) -> str:
        return json.dumps(
            {"type": self.type, "id": self.id, "workflow_id": self.workflow_id, "data": self.data},
            separators=(",", ":"),
        )

    @classmethod
    def decode(cls, raw: str | bytes) -> Envelope:
        value = json.loads(raw)
        return cls(value["type"], value["id"], value["data"], value.get("workflow_id"))


class EventBus(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def publish(self, envelopes: Sequence[Envelope]) -> None:
        """Raises when the messages could not be handed to the bus."""
        ...

    def subscribe(self) -> Subscription: ...


class SubscriberOverflow(Exception):
    """The subscriber fell SUBSCRIBER_BUFFER messages behind and was cut off."""


@dataclass(eq=False)
class Subscription:
    """A local subscriber's buffer. Iterate it; close it when done.

    A subscriber that falls too far behind is cut off: it still gets everything
    buffered, in order, and then SubscriberOverflow, never a silent gap.
    """

    hub: Hub
    queue: asyncio.Queue[Envelope | None] = field(
        default_factory=lambda: asyncio.Queue(SUBSCRIBER_BUFFER)
    )
    overflowed: bool = False

    def __aiter__(self) -> AsyncIterator[Envelope]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Envelope]:
        while True:
            if self.overflowed and self.queue.empty():
                raise SubscriberOverflow(
                    f"fell {SUBSCRIBER_BUFFER} messages behind and was cut off"
                )
            envelope = await self.queue.get()
            if envelope is None:
                return
            yield envelope

    def close(self) -> None:
        self.hub.subscribers.discard(self)


class Hub:
    """Fans messages out to this process's subscribers."""

    def __init__(self) -> None:
        self.subscribers: set[Subscription] = set()

    def subscribe(self) -> Subscription:
        subscription = Subscription(self)
        self.subscribers.add(subscription)
        return subscription

    def fan_out(self, envelopes: Sequence[Envelope]) -> None:
        for subscription in list(self.subscribers):
            for envelope in envelopes:
                try:
                    subscription.queue.put_nowait(envelope)
                except asyncio.QueueFull:
                    # A subscriber this far behind is cut off rather than let grow; it
                    # drains what it has, then learns that it missed the rest.
                    log.warning(
                        "a subscriber fell %d messages behind; closing it", SUBSCRIBER_BUFFER
                    )
                    subscription.overflowed = True
                    subscription.close()
                    break

    def close_all(self) -> None:
        for subscription in list(self.subscribers):
            subscription.close()
            with contextlib.suppress(asyncio.QueueFull):
                subscription.queue.put_nowait(None)


class InProcessBus(Hub):
    """The embedded default: one process, no broker."""

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        self.close_all()

    async def publish(self, envelopes: Sequence[Envelope]) -> None:
        self.fan_out(envelopes)


class RedisBus(Hub):
    """Redis pub/sub: publish to one channel; a listener feeds the local hub.

    The listener reconnects with backoff when Redis goes away; messages
    published meanwhile stay unpublished in the outbox and the relay sends them
    once Redis is back.
    """

    def __init__(
        self,
        url: str,
        channel: str = CHANNEL,
        catch_up: Callable[[datetime], Awaitable[list[Envelope]]] | None = None,
    ) -> None:
        """`catch_up(since)` reads back what was committed since a moment, so that
        messages published while this listener was away still reach its subscribers."""
        super().__init__()
        from redis import asyncio as aioredis

        self.url = url
        self.channel = channel
        self.catch_up = catch_up
        self.client = aioredis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
        self._listener: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()

    async def start(self) -> None:
        self._listener = asyncio.create_task(self._listen(), name="arbiter-redis-listener")

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._listener
        self.close_all()
        await self.client.aclose()

    async def publish(self, envelopes: Sequence[Envelope]) -> None:
        if not envelopes:
            return
        async with self.client.pipeline(transaction=False) as pipe:
            for envelope in envelopes:
                pipe.publish(self.channel, envelope.encode())
            await pipe.execute()

    async def _listen(self) -> None:
        delay = 0.1
        lost_at: datetime | None = None
        while True:
            pubsub = self.client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                self.connected.set()
                delay = 0.1
                if lost_at is not None and self.catch_up is not None:
                    missed = await self.catch_up(lost_at - CATCH_UP_MARGIN)
                    log.info("event bus reconnected; replaying %d messages", len(missed))
                    self.fan_out(missed)
                lost_at = None
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is None or message.get("type") != "message":
                        continue
                    try:
                        self.fan_out([Envelope.decode(message["data"])])
                    except (ValueError, KeyError) as error:
                        log.warning("dropped an undecodable bus message: %s", error)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # Redis went away: wait and reconnect
                if lost_at is None:
                    lost_at = datetime.now(UTC)
                self.connected.clear()
                log.warning("event bus listener lost Redis (%s); retrying in %.1fs", error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
