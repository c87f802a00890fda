"""Fields that read through the request's DataLoaders, resolved at once when they can.

A field whose value the request has loaded already (primed by the query that read
the rows, or loaded for another item) is answered without a coroutine: graphql-core
awaits only what it is handed as awaitable, and on a page of 100 items a coroutine
and a task per nested field cost more than the field itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

K = TypeVar("K")
V = TypeVar("V")
R = TypeVar("R")


def now_or_later(loader: DataLoader[K, V], key: K, convert: Callable[[V], R]) -> Any:
    """`convert(value)` when `loader` holds `key` already, else an awaitable of it."""
    cached = loader.cache_map.get(key) if loader.cache else None
    if (
        cached is not None
        and cached.done()
        and not cached.cancelled()
        and cached.exception() is None
    ):
        return convert(cached.result())

    async def later() -> R:
        return convert(await loader.load(key))

    return later()
