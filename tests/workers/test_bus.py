"""The in-process hub: fan-out, and what a subscriber that falls behind is told."""

from __future__ import annotations

import pytest

from workers import bus
from workers.bus import Envelope, InProcessBus, SubscriberOverflow


def envelope(n: int) -> Envelope:
    return Envelope("queue", f"evt_{n}", {"n": n}, "wf_1")


async def test_every_subscriber_gets_every_message_in_order():
    hub = InProcessBus()
    first, second = hub.subscribe(), hub.subscribe()

    await hub.publish([envelope(1), envelope(2)])
    hub.close_all()

    assert [e.id async for e in first] == ["evt_1", "evt_2"]
    assert [e.id async for e in second] == ["evt_1", "evt_2"]


async def test_a_subscriber_that_falls_behind_gets_what_it_has_then_an_overflow_error(
    monkeypatch,
):
    monkeypatch.setattr(bus, "SUBSCRIBER_BUFFER", 3)
    hub = InProcessBus()
    slow = hub.subscribe()

    await hub.publish([envelope(n) for n in range(5)])

    received = []
    with pytest.raises(SubscriberOverflow):
        async for message in slow:
            received.append(message.id)
    assert received == ["evt_0", "evt_1", "evt_2"]  # no gap before the error
    assert slow not in hub.subscribers
