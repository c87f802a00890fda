"""A long-lived subscription keeps no per-event state (api/schema/live/executor_memo.py)."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator
from typing import Any

import pytest
from graphql import build_schema, parse, subscribe
from graphql.execution.executor import Executor

from api.schema.live import executor_memo

SCHEMA = build_schema(
    """
    type Query { noop: Int }
    type Inner { a: Int b: Int }
    type Tick { n: Int inner: Inner }
    type Subscription { tick: Tick }
    """
)
EVENTS = 300


async def _ticks(_root: Any, _info: Any) -> AsyncIterator[dict[str, Any]]:
    for n in range(EVENTS):
        yield {"tick": {"n": n, "inner": {"a": n, "b": -n}}}


async def test_events_leave_nothing_in_the_subscriptions_memo(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    executor_memo.install()
    executor_memo.install()  # idempotent
    patched = Executor.build_per_event_executor
    parents: list[Executor] = []

    def spy(self: Executor, payload: Any) -> Executor:
        parents.append(self)
        return patched(self, payload)

    monkeypatch.setattr(Executor, "build_per_event_executor", spy)
    monkeypatch.setattr(SCHEMA.subscription_type.fields["tick"], "subscribe", _ticks)  # type: ignore[union-attr]
    stream: Any = subscribe(SCHEMA, parse("subscription { tick { n inner { a b } } }"))
    if inspect.isawaitable(stream):
        stream = await stream
    received = 0
    async for result in stream:
        assert result.errors is None
        assert result.data == {"tick": {"n": received, "inner": {"a": received, "b": -received}}}
        received += 1
    assert received == EVENTS
    assert len({id(p) for p in parents}) == 1
    # Unpatched, graphql-core 3.3.2 adds two entries per event (600 here), each keeping
    # that event's field lists alive for as long as the subscription lives.
    assert len(parents[0]._relevant_sub_fields) <= 2, len(parents[0]._relevant_sub_fields)
