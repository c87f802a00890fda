"""The clock: the system's by default, swapped for a block with using_clock, inherited by
the tasks and threads started inside it, never leaking out of it."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from datetime import UTC, datetime, timedelta

import pytest

from domain.clock import ManualClock, system_clock, using_clock, utcnow

MIDNIGHT = datetime(2025, 3, 1, tzinfo=UTC)


def test_utcnow_reads_the_system_clock_by_default() -> None:
    before = datetime.now(UTC)
    now = utcnow()
    assert before <= now <= datetime.now(UTC)
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0)


def test_a_manual_clock_stands_still_until_it_is_moved() -> None:
    clock = ManualClock(MIDNIGHT)
    with using_clock(clock):
        assert utcnow() == MIDNIGHT
        assert utcnow() == MIDNIGHT
        clock.advance(timedelta(hours=9))
        assert utcnow() == MIDNIGHT + timedelta(hours=9)
        clock.set(MIDNIGHT + timedelta(days=2))
        assert utcnow() == MIDNIGHT + timedelta(days=2)


def test_the_block_ends_and_the_system_clock_is_back() -> None:
    with using_clock(ManualClock(MIDNIGHT)):
        assert utcnow() == MIDNIGHT
    assert utcnow() > MIDNIGHT + timedelta(days=365)


def test_blocks_nest_and_each_restores_the_one_outside() -> None:
    outer, inner = ManualClock(MIDNIGHT), ManualClock(MIDNIGHT + timedelta(days=30))
    with using_clock(outer):
        with using_clock(inner):
            assert utcnow() == MIDNIGHT + timedelta(days=30)
        assert utcnow() == MIDNIGHT


def test_the_clock_is_restored_when_the_block_raises() -> None:
    with pytest.raises(RuntimeError), using_clock(ManualClock(MIDNIGHT)):
        raise RuntimeError("boom")
    assert utcnow() > MIDNIGHT + timedelta(days=365)


def test_a_clock_that_returns_another_zone_is_read_as_utc() -> None:
    from datetime import timezone

    paris = timezone(timedelta(hours=1))
    with using_clock(lambda: datetime(2025, 3, 1, 10, 0, tzinfo=paris)):
        assert utcnow() == datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
        assert utcnow().tzinfo is UTC


def test_a_manual_clock_refuses_naive_times_and_going_back() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        ManualClock(datetime(2025, 3, 1))
    clock = ManualClock(MIDNIGHT)
    with pytest.raises(ValueError, match="does not go back"):
        clock.advance(timedelta(seconds=-1))
    with pytest.raises(ValueError, match="does not go back"):
        clock.set(MIDNIGHT - timedelta(days=1))
    assert clock() == MIDNIGHT


async def test_tasks_and_threads_started_inside_the_block_read_its_clock() -> None:
    clock = ManualClock(MIDNIGHT)
    with using_clock(clock):
        in_task = await asyncio.create_task(_now_later())
        in_thread = await asyncio.to_thread(utcnow)
        clock.advance(timedelta(hours=1))
        moved = await asyncio.create_task(_now_later())  # the same clock, moved
    assert in_task == MIDNIGHT
    assert in_thread == MIDNIGHT
    assert moved == MIDNIGHT + timedelta(hours=1)


async def _now_later() -> datetime:
    await asyncio.sleep(0)
    return utcnow()


async def test_a_task_started_outside_the_block_keeps_the_system_clock() -> None:
    started = asyncio.Event()
    release = asyncio.Event()
    seen: list[datetime] = []

    async def bystander() -> None:
        started.set()
        await release.wait()
        seen.append(utcnow())

    task = asyncio.create_task(bystander())
    await started.wait()
    with using_clock(ManualClock(MIDNIGHT)):
        release.set()
        await task
    assert seen[0] > MIDNIGHT + timedelta(days=365)


def test_another_thread_is_not_touched_by_this_threads_block() -> None:
    seen: list[datetime] = []
    inside = threading.Event()
    done = threading.Event()

    def other() -> None:
        inside.wait(5)
        seen.append(utcnow())
        done.set()

    thread = threading.Thread(target=contextvars.Context().run, args=(other,))
    thread.start()
    with using_clock(ManualClock(MIDNIGHT)):
        inside.set()
        done.wait(5)
    thread.join(5)
    assert seen and seen[0] > MIDNIGHT + timedelta(days=365)


def test_the_system_clock_is_aware_utc() -> None:
    assert system_clock().tzinfo is UTC
