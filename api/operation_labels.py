"""The `operation` label of arbiter_graphql_requests_total, bounded.

The operation name is chosen by the client, and every distinct label value is a
series Prometheus keeps for good: left alone, a client inventing names grows the
metrics without end. So each process gives its own label to the first
`ARBITER_METRICS_MAX_OPERATION_NAMES` distinct names it sees and to every name of
a trusted document; any other name is counted as `other`. Unnamed operations are
`anonymous`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

MAX_NAME_CHARS = 64
OTHER = "other"
ANONYMOUS = "anonymous"


class OperationLabels:
    """Which operation names have a label of their own (one registry per process)."""

    def __init__(self, max_names: int = 100) -> None:
        self._max_names = max_names
        self._named: set[str] = set()
        self._trusted: set[str] = set()
        self._lock = threading.Lock()

    def configure(self, max_names: int) -> None:
        """Start counting names again, with room for `max_names` (a new app does this;
        a process serves one app, so its series stay bounded). Trusted names stay."""
        if max_names < 0:
            raise ValueError("ARBITER_METRICS_MAX_OPERATION_NAMES must be 0 or more")
        with self._lock:
            self._max_names = max_names
            self._named = set()

    def allow(self, names: Iterable[str]) -> None:
        """Give these names (those of trusted documents) their own label, beyond the bound."""
        with self._lock:
            self._trusted.update(_truncated(name) for name in names if name)

    def label(self, name: str | None) -> str:
        """The label to count an operation called `name` under."""
        if not name:
            return ANONYMOUS
        name = _truncated(name)
        if name in (OTHER, ANONYMOUS) or name in self._trusted or name in self._named:
            return name
        with self._lock:
            if name in self._named or len(self._named) < self._max_names:
                self._named.add(name)
                return name
        return OTHER


def _truncated(name: str) -> str:
    return name[:MAX_NAME_CHARS]


OPERATION_LABELS = OperationLabels()
"""This process's registry, configured by create_app from the Settings."""


def allow_operation_names(names: Iterable[str]) -> None:
    """Give the operation names of trusted documents their own label, whatever the bound."""
    OPERATION_LABELS.allow(names)


def configure_operation_labels(max_names: int) -> None:
    """Room for `max_names` distinct untrusted names (ARBITER_METRICS_MAX_OPERATION_NAMES)."""
    OPERATION_LABELS.configure(max_names)


def operation_label(name: str | None) -> str:
    """The `operation` label for an operation called `name` (None: unnamed)."""
    return OPERATION_LABELS.label(name)
