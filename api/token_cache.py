"""A bounded, expiring map from bearer-token hashes to their users, that forgets a
refused token on every replica within a second.

Why two mechanisms. Deactivating a user or revoking their tokens must be refused on
every replica at once, but each replica remembers resolved tokens (30 s by default)
so that most requests skip the database. So:

1. The replica that made the change clears its own cache and announces it
   (api.token_revocations: a Redis pub/sub message when ARBITER_REDIS_URL is set);
   every replica that hears it clears its cache. That is immediate, but pub/sub
   delivers at most once: a listener reconnecting, or Redis restarting, loses it.
2. So no entry is trusted without a re-check for more than `recheck_seconds`
   (0.5 s): past that, one request per replica reads a cheap summary of every
   refusal (SqlUsers.refusal_mark: how many tokens are revoked, the latest
   revocation, how many users are inactive; one statement over small tables,
   at most twice a second per replica, and only while cached tokens are in use)
   and clears the cache when it moved. A lost message therefore costs at most
   half a second more, never the cache's whole lifetime.

A per-token re-check would cost a query per token per half second; one summary per
replica costs the same whatever the number of tokens. Clearing the whole cache on
any refusal is cheap because refusals are rare: each token then costs one look-up.

A look-up that started before the cache was cleared is not remembered (`put` is
given when it started), so that a token resolved just before its revocation does
not outlive it in the cache.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from datetime import datetime

from domain.clock import utcnow
from domain.model import User

RECHECK_SECONDS = 0.5


class TokenCache:
    """Recently resolved tokens (by hash) → their users, for `seconds` (never past the
    token's own expiry), at most `size` of them.

    Only tokens that resolved are kept: an unknown token always asks the database,
    so a user created on another replica can use their token at once.
    """

    def __init__(self, seconds: float, size: int, recheck_seconds: float = RECHECK_SECONDS):
        self.seconds = seconds
        self.size = size
        self.recheck_seconds = recheck_seconds
        self._entries: OrderedDict[str, tuple[float, float, User]] = OrderedDict()
        self._mark: Hashable | None = None
        self._verified_at = float("-inf")  # when the refusal mark was last found unchanged
        self._cleared_at = float("-inf")
        self._checking = asyncio.Lock()

    @staticmethod
    def now() -> float:
        return time.monotonic()

    def get(self, token_hash: str) -> User | None:
        """The remembered user, however long ago it was checked (see `trusted`)."""
        entry = self._entries.get(token_hash)
        if entry is None:
            return None
        expires, _, user = entry
        if expires <= self.now():
            del self._entries[token_hash]
            return None
        self._entries.move_to_end(token_hash)
        return user

    async def trusted(
        self, token_hash: str, refusal_mark: Callable[[], Awaitable[Hashable]]
    ) -> User | None:
        """The remembered user, re-checked against `refusal_mark()` when neither it nor
        the mark was checked in the last `recheck_seconds`."""
        user = self.get(token_hash)
        if user is None:
            return None
        if self._stale(token_hash):
            await self.recheck(refusal_mark)
        return self.get(token_hash)

    def _stale(self, token_hash: str) -> bool:
        entry = self._entries.get(token_hash)
        if entry is None:
            return False
        checked = max(entry[1], self._verified_at)
        return self.now() - checked >= self.recheck_seconds

    async def recheck(self, refusal_mark: Callable[[], Awaitable[Hashable]]) -> None:
        """Read the refusal mark (once for all waiting requests); clear when it moved."""
        started = self.now()
        async with self._checking:
            if self._verified_at >= started:
                return  # another request checked meanwhile
            mark = await refusal_mark()
            if self._mark is None or mark != self._mark:
                self.clear()
            else:
                self._verified_at = started
            self._mark = mark

    def put(
        self,
        token_hash: str,
        user: User,
        *,
        looked_up_at: float | None = None,
        expires_at: datetime | None = None,
    ) -> None:
        """Remember a token resolved by a look-up that started at `looked_up_at` (from
        `now()`); not when the cache was cleared since, nor when it expires meanwhile."""
        if self.seconds <= 0 or self.size <= 0:
            return
        now = self.now()
        started = now if looked_up_at is None else looked_up_at
        if started <= self._cleared_at:
            return
        lifetime = self.seconds
        if expires_at is not None:
            lifetime = min(lifetime, (expires_at - utcnow()).total_seconds())
        if lifetime <= 0:
            return
        self._entries[token_hash] = (now + lifetime, started, user)
        self._entries.move_to_end(token_hash)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forget every token: one was refused somewhere."""
        self._entries.clear()
        self._cleared_at = self.now()
        self._verified_at = float("-inf")
