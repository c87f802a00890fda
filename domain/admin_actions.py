"""The record of what admins did: who, when, what, on what; secrets left out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.clock import utcnow
from domain.ids import new_id

# Argument names whose values are never recorded.
SECRET_NAMES = frozenset({"token", "secret", "signingsecret", "signing_secret", "password"})


@dataclass(frozen=True)
class AdminAction:
    id: str
    actor_id: str | None  # None: the operator's command line
    action: str  # the mutation's name, e.g. "deactivateUser"
    target: str | None  # the id or key it acted on
    details: dict[str, Any] | None
    at: datetime

    @classmethod
    def record(
        cls,
        actor_id: str | None,
        action: str,
        target: str | None,
        details: dict[str, Any] | None = None,
    ) -> AdminAction:
        return cls(
            id=new_id("act"),
            actor_id=actor_id,
            action=action,
            target=target,
            details=without_secrets(details) if details is not None else None,
            at=utcnow(),
        )


def without_secrets(details: dict[str, Any]) -> dict[str, Any]:
    """`details` with every secret-named value (at any depth) replaced by a mark."""
    clean: dict[str, Any] = {}
    for name, value in details.items():
        if name.lower() in SECRET_NAMES:
            clean[name] = "(secret)"
        elif isinstance(value, dict):
            clean[name] = without_secrets(value)
        else:
            clean[name] = value
    return clean
