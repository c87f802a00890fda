"""Two deployments on one Redis server keep their events apart by channel."""

from __future__ import annotations

import asyncio

import pytest

from workers import bus
from workers.bus import Envelope


def envelope(n: int) -> Envelope:
    return Envelope("queue", f"evt_{n}", {"n": n}, "wf_1")


async def test_buses_on_different_channels_of_one_redis_do_not_hear_each_other(redis_url):
    """Pub/sub channels are shared by every database of a Redis server, so two
    deployments on one server keep apart only by ARBITER_REDIS_CHANNEL."""
    ours = bus.RedisBus(redis_url, "arbiter:test:ours")
    theirs = bus.RedisBus(redis_url, "arbiter:test:theirs")
    for hub in (ours, theirs):
        await hub.start()
        await asyncio.wait_for(hub.connected.wait(), 5)
    try:
        heard_ours = aiter(ours.subscribe())
        heard_theirs = aiter(theirs.subscribe())
        await theirs.publish([envelope(1)])
        await ours.publish([envelope(2)])
        assert (await asyncio.wait_for(anext(heard_ours), 5)).id == "evt_2"
        assert (await asyncio.wait_for(anext(heard_theirs), 5)).id == "evt_1"
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(anext(heard_ours), 0.5)
    finally:
        await ours.stop()
        await theirs.stop()
