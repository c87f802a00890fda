"""Model events on the bus: TRAINED, PROMOTED (with the feedback report), REJECTED, DRIFT
(with its message)."""

from __future__ import annotations

from typing import Protocol

from domain.events import ModelEvent
from domain.learning import ModelEventKind
from domain.messages import MessageType, encode_model_event
from workers.bus import Envelope


class Publishes(Protocol):
    """Whatever hands ephemeral messages to the bus (the job runtime)."""

    async def publish(self, envelopes: list[Envelope]) -> None: ...


def model_envelope(
    kind: ModelEventKind,
    model_id: str,
    workflow_id: str,
    message: str | None = None,
    episode: str | None = None,
) -> Envelope:
    """A model event on the bus, with the same id in every delivery of it."""
    event = ModelEvent(kind, model_id, workflow_id, message, episode)
    return Envelope(MessageType.MODEL, event.id, encode_model_event(event), workflow_id)


async def publish_model_event(
    runtime: Publishes,
    kind: ModelEventKind,
    model_id: str,
    workflow_id: str,
    message: str | None = None,
    episode: str | None = None,
) -> None:
    await runtime.publish([model_envelope(kind, model_id, workflow_id, message, episode)])
