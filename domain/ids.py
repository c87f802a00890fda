"""Opaque, prefixed identifiers: the prefix tells `node(id)` what kind of thing an id names."""

from __future__ import annotations

import uuid

PREFIXES = {
    "usr": "User",
    "wf": "Workflow",
    "rec": "Recommendation",
    "dec": "Decision",
    "ovr": "Override",
    "evt": "QueueEvent",
    "job": "Job",
    "whk": "Webhook",
    "dlv": "WebhookDelivery",
    "mdl": "ModelVersion",
    "thm": "OverrideThemeReport",
    "team": "Team",
    "act": "AdminAction",
}


def new_id(prefix: str) -> str:
    assert prefix in PREFIXES, prefix
    return f"{prefix}_{uuid.uuid4().hex}"


def kind_of(identifier: str) -> str | None:
    """The type name an id belongs to, or None when it is not one of ours."""
    prefix, _, rest = identifier.partition("_")
    if not rest:
        return None
    return PREFIXES.get(prefix)
