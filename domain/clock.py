"""Time, always as aware UTC datetimes, from a clock that can be swapped.

`utcnow()` reads the current clock: the system's, unless code runs inside
`using_clock(clock)`. The clock lives in a ContextVar, so a swap holds for the
`with` block and for everything started inside it (asyncio tasks and
`asyncio.to_thread` copy the context they start in), and never leaks into
other tasks, threads or tests. `ManualClock` is a clock that moves only when told
(simulations: `arbiter simulate-loop` runs months in minutes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import overload

Clock = Callable[[], datetime]
"""A function returning the current time as an aware datetime."""


def system_clock() -> datetime:
    """The machine's time, in UTC."""
    return datetime.now(UTC)


_current: ContextVar[Clock] = ContextVar("arbiter_clock", default=system_clock)


def utcnow() -> datetime:
    """The current clock's time, in UTC."""
    return as_utc(_current.get()())


@contextmanager
def using_clock(clock: Clock) -> Iterator[Clock]:
    """Read time from `clock` inside the block (and in tasks started inside it)."""
    token = _current.set(clock)
    try:
        yield clock
    finally:
        _current.reset(token)


class ManualClock:
    """A clock that stands still until it is moved: `advance(delta)` or `set(moment)`.
    It never goes back (time order is what the decision log and windows rely on)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("a clock's time must be timezone-aware")
        self._now = start.astimezone(UTC)

    def __call__(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by `delta` (not negative); returns the new time."""
        if delta < timedelta(0):
            raise ValueError("a clock does not go back")
        self._now += delta
        return self._now

    def set(self, moment: datetime) -> datetime:
        """Move forward to `moment` (aware, not earlier than now); returns it."""
        if moment.tzinfo is None:
            raise ValueError("a clock's time must be timezone-aware")
        return self.advance(moment.astimezone(UTC) - self._now)


@overload
def as_utc(value: datetime) -> datetime: ...
@overload
def as_utc(value: None) -> None: ...
@overload
def as_utc(value: datetime | None) -> datetime | None: ...
def as_utc(value: datetime | None) -> datetime | None:
    """Treat naive datetimes (as SQLite returns them) as UTC; convert aware ones to UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
