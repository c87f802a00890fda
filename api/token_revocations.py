"""Telling every replica that tokens were refused (a user deactivated, tokens revoked),
so that each clears its token cache at once.

With ARBITER_REDIS_URL, a message on `<redis_channel>:token-revocations`; without it,
only this process hears it. Pub/sub may lose a message (a listener reconnecting, Redis
restarting): api.token_cache bounds that loss to half a second by re-checking a cheap
refusal mark, and a listener that reconnects clears its cache, since it may have
missed something meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from api.token_cache import TokenCache

log = logging.getLogger("arbiter.tokens")


class TokenRevocations:
    """Announces refusals and clears `cache` when any replica announces one."""

    def __init__(self, cache: TokenCache, redis_url: str | None, channel: str) -> None:
        self.cache = cache
        self.redis_url = redis_url
        self.channel = f"{channel}:token-revocations"
        self._client: Any = None
        self._listener: asyncio.Task[None] | None = None
        self.listening = asyncio.Event()

    async def start(self) -> None:
        if not self.redis_url:
            return
        from redis import asyncio as aioredis

        self._client = aioredis.from_url(self.redis_url, socket_connect_timeout=2)
        self._listener = asyncio.create_task(self._listen(), name="arbiter-token-revocations")

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._listener
            self._listener = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def announce(self, user_id: str) -> None:
        """After the refusal committed: clear this cache, then tell the other replicas.
        A failure to publish is logged, not raised: the re-check covers it."""
        self.cache.clear()
        if self._client is None:
            return
        try:
            await self._client.publish(self.channel, user_id)
        except Exception as error:  # Redis away: the refusal mark covers it
            log.warning("could not announce a token refusal (%s); replicas re-check", error)

    async def _listen(self) -> None:
        delay = 0.1
        while True:
            pubsub = self._client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                self.cache.clear()  # anything announced while not listening is forgotten
                self.listening.set()
                delay = 0.1
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is not None and message.get("type") == "message":
                        self.cache.clear()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # Redis went away: wait and listen again
                self.listening.clear()
                log.warning("token revocations lost Redis (%s); retrying in %.1fs", error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
