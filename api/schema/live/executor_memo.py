"""A per-event memo for subscription executors (works around graphql-core 3.3.2).

graphql-core memoizes "collect subfields" in a dict on its Executor, keyed by
the identity of the field list being completed, and keeps that list alive with
the entry. A subscription's per-event executor is a shallow copy of the
subscription's executor, so every event's executions share the subscription's
dict; the field lists are built anew for each event, so each event adds
entries (about 45 tracked objects for a queueEvents selection with one nested
object) that live as long as the subscription does. With 1,000 subscribers,
one event leaks ~45,000 objects; the heap grows without bound and full garbage
collections pause the process for up to seconds (bench/fanout.py).

Giving each per-event executor a dict of its own keeps the memo where it helps
(lists within one event) and lets it go with the event.
"""

from __future__ import annotations

from typing import Any

from graphql.execution.executor import Executor

_MARK = "_arbiter_per_event_memo"


def install() -> None:
    """Patch Executor.build_per_event_executor once (no-op if graphql-core changed shape)."""
    original = getattr(Executor, "build_per_event_executor", None)
    if original is None or getattr(original, _MARK, False):
        return

    def build_per_event_executor(self: Executor, payload: Any) -> Executor:
        executor = original(self, payload)
        if isinstance(getattr(executor, "_relevant_sub_fields", None), dict):
            executor._relevant_sub_fields = {}
        return executor

    setattr(build_per_event_executor, _MARK, True)
    build_per_event_executor.__wrapped__ = original  # type: ignore[attr-defined]
    Executor.build_per_event_executor = build_per_event_executor  # type: ignore[method-assign]
