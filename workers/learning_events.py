"""Model events on the bus: TRAINED, PROMOTED (with the feedback report), REJECTED."""

from __future__ import annotations

from typing import Any

from domain.learning import ModelEventKind
from workers.bus import Envelope


def model_envelope(kind: ModelEventKind, model_id: str, workflow_id: str) -> Envelope:
    return Envelope(
        "model",
        f"{model_id}:{kind.value}",
        {"kind": kind.value, "model_id": model_id},
        workflow_id,
    )


async def publish_model_event(
    runtime: Any, kind: ModelEventKind, model_id: str, workflow_id: str
) -> None:
    await runtime.publish([model_envelope(kind, model_id, workflow_id)])
