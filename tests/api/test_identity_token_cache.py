"""The token cache forgets refused tokens: it re-reads the refusal mark once an entry has
gone unchecked for half a second, clears itself when the mark moved, never remembers a
look-up that started before a clear, and never serves a token past its expiry."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from api.token_cache import TokenCache
from domain.enums import Role
from domain.model import User


def a_user(name: str = "ada") -> User:
    return User(id=f"usr_{name}", name=name, role=Role.ANALYST, created_at=datetime.now(UTC))


class Clock:
    def __init__(self, cache: TokenCache) -> None:
        self.now = 100.0
        cache.now = lambda: self.now  # type: ignore[method-assign]


class Marks:
    """A refusal mark that the test moves, counting how often it is read."""

    def __init__(self) -> None:
        self.value = 0
        self.reads = 0

    async def __call__(self) -> int:
        self.reads += 1
        await asyncio.sleep(0)
        return self.value


async def test_a_fresh_entry_is_served_without_reading_the_mark():
    cache, marks = TokenCache(30, 10), Marks()
    clock = Clock(cache)
    cache.put("h", a_user())
    clock.now += 0.4
    assert await cache.trusted("h", marks) is not None
    assert marks.reads == 0


async def test_an_entry_unchecked_for_half_a_second_is_kept_while_the_mark_stays_put():
    cache, marks = TokenCache(30, 10), Marks()
    clock = Clock(cache)
    await cache.recheck(marks)  # the replica's first reading of the mark
    clock.now += 0.01
    cache.put("h", a_user())
    clock.now += 0.6
    assert await cache.trusted("h", marks) is not None
    clock.now += 0.3  # the mark was read 0.3 s ago: no second reading
    assert await cache.trusted("h", marks) is not None
    assert marks.reads == 2


async def test_an_entry_is_forgotten_when_the_mark_moved():
    cache, marks = TokenCache(30, 10), Marks()
    clock = Clock(cache)
    await cache.recheck(marks)
    clock.now += 0.01
    cache.put("h", a_user())
    marks.value = 1  # a token revoked somewhere, the announcement lost
    clock.now += 0.6
    assert await cache.trusted("h", marks) is None


async def test_concurrent_requests_share_one_reading_of_the_mark():
    cache, marks = TokenCache(30, 10), Marks()
    clock = Clock(cache)
    await cache.recheck(marks)
    clock.now += 0.01
    for n in range(5):
        cache.put(f"h{n}", a_user(f"u{n}"))
    clock.now += 0.6
    found = await asyncio.gather(*(cache.trusted(f"h{n}", marks) for n in range(5)))
    assert all(user is not None for user in found)
    assert marks.reads == 2


def test_a_look_up_that_started_before_a_clear_is_not_remembered():
    cache = TokenCache(30, 10)
    clock = Clock(cache)
    started = cache.now()
    clock.now += 0.01
    cache.clear()  # an announcement arrives while the look-up is under way
    clock.now += 0.01
    cache.put("h", a_user(), looked_up_at=started)
    assert cache.get("h") is None
    cache.put("h", a_user(), looked_up_at=cache.now())
    assert cache.get("h") is not None


def test_a_token_is_remembered_no_longer_than_it_is_valid():
    cache = TokenCache(30, 10)
    cache.put("gone", a_user(), expires_at=datetime.now(UTC) - timedelta(seconds=1))
    cache.put("soon", a_user(), expires_at=datetime.now(UTC) + timedelta(seconds=5))
    assert cache.get("gone") is None
    entry = cache._entries["soon"]
    assert entry[0] - cache.now() <= 5
