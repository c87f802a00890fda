"""What travels between processes: queue events, job progress and model events.

Each message has one explicit serialisation, a JSON-ready dict carrying a `version`
(MESSAGE_VERSION). Its fields are named here, never taken from a table row, so renaming
a column changes nothing on the bus or in a webhook. Decoding anything else raises a
MessageError (UnknownMessageVersion for another version): consumers log it and skip the
message, since messages are transient and a later one supersedes it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from domain.events import ModelEvent, QueueEvent, QueueEventKind
from domain.jobs import Job, JobKind, JobState
from domain.learning import ModelEventKind
from domain.snapshots import (
    decode_recommendation,
    decode_required_time,
    decode_time,
    encode_recommendation,
    encode_time,
)

MESSAGE_VERSION = 1

T = TypeVar("T")


class MessageType(StrEnum):
    """What a message on the bus is about, so that a consumer can skip the others."""

    QUEUE = "queue"
    JOB = "job"
    MODEL = "model"


class MessageError(ValueError):
    """A message that cannot be decoded."""


class UnknownMessageVersion(MessageError):
    """A message of a version this code does not read (a newer or older replica sent it)."""

    def __init__(self, version: object) -> None:
        super().__init__(f"message version {version!r} is not {MESSAGE_VERSION}")
        self.version = version


def _decode(data: object, what: str, build: Callable[[Mapping[str, Any]], T]) -> T:
    """Check the version, then build; anything missing or malformed is a MessageError."""
    if not isinstance(data, Mapping):
        raise MessageError(f"a {what} message is not an object: {data!r}")
    version = data.get("version")
    if version != MESSAGE_VERSION:
        raise UnknownMessageVersion(version)
    with _malformed(what):
        return build(data)


@contextmanager
def _malformed(what: str) -> Iterator[None]:
    try:
        yield
    except MessageError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise MessageError(f"malformed {what} message ({type(error).__name__}: {error})") from error


# ------------------------------------------------------------------ queue events


@dataclass(frozen=True)
class QueueEventMessage:
    """A queue event as it travels, its item kept as the encoded snapshot.

    The outbox holds each item's snapshot in this encoding already, so the publisher
    passes it on as stored; the item is rebuilt only by whoever reads it (`event()`).
    """

    id: str
    kind: QueueEventKind
    workflow_id: str
    at: datetime
    snapshot: Mapping[str, Any]
    seq: int = 0
    actor_id: str | None = None
    decision_id: str | None = None
    previous_tier: str | None = None

    @classmethod
    def of(cls, event: QueueEvent) -> QueueEventMessage:
        return cls(
            id=event.id,
            kind=event.kind,
            workflow_id=event.workflow_id,
            at=event.at,
            snapshot=encode_recommendation(event.recommendation),
            seq=event.seq,
            actor_id=event.actor_id,
            decision_id=event.decision_id,
            previous_tier=event.previous_tier,
        )

    def event(self) -> QueueEvent:
        """The event with its item rebuilt; a MessageError if the snapshot is malformed."""
        with _malformed("queue"):
            item = decode_recommendation(self.snapshot)
        return QueueEvent(
            id=self.id,
            kind=self.kind,
            workflow_id=self.workflow_id,
            recommendation=item,
            at=self.at,
            actor_id=self.actor_id,
            decision_id=self.decision_id,
            previous_tier=self.previous_tier,
            seq=self.seq,
        )

    def encode(self) -> dict[str, Any]:
        return {
            "version": MESSAGE_VERSION,
            "id": self.id,
            "kind": self.kind.value,
            "workflow_id": self.workflow_id,
            "at": encode_time(self.at),
            "seq": self.seq,
            "actor_id": self.actor_id,
            "decision_id": self.decision_id,
            "previous_tier": self.previous_tier,
            "recommendation": dict(self.snapshot),
        }

    @classmethod
    def decode(cls, data: object) -> QueueEventMessage:
        return _decode(data, "queue", cls._build)

    @classmethod
    def _build(cls, data: Mapping[str, Any]) -> QueueEventMessage:
        snapshot = data["recommendation"]
        if not isinstance(snapshot, Mapping):
            raise TypeError("the item's snapshot is not an object")
        return cls(
            id=str(data["id"]),
            kind=QueueEventKind(data["kind"]),
            workflow_id=str(data["workflow_id"]),
            at=decode_required_time(data["at"]),
            snapshot=snapshot,
            seq=int(data["seq"]),
            actor_id=data["actor_id"],
            decision_id=data["decision_id"],
            previous_tier=data["previous_tier"],
        )


def encode_queue_event(event: QueueEvent) -> dict[str, Any]:
    """A queue event as a JSON-ready dict (MESSAGE_VERSION)."""
    return QueueEventMessage.of(event).encode()


def decode_queue_event(data: object) -> QueueEvent:
    """The queue event back; a MessageError when `data` is not one of this version."""
    return QueueEventMessage.decode(data).event()


# ------------------------------------------------------------------ job progress


def encode_job(job: Job) -> dict[str, Any]:
    """A job's state and progress as a JSON-ready dict (MESSAGE_VERSION)."""
    return {
        "version": MESSAGE_VERSION,
        "id": job.id,
        "kind": job.kind.value,
        "state": job.state.value,
        "progress": job.progress,
        "message": job.message,
        "result": job.result,
        "args": job.args,
        "created_at": encode_time(job.created_at),
        "started_at": encode_time(job.started_at),
        "finished_at": encode_time(job.finished_at),
        "heartbeat_at": encode_time(job.heartbeat_at),
        "attempts": job.attempts,
    }


def decode_job(data: object) -> Job:
    """The job back; a MessageError when `data` is not one of this version."""
    return _decode(data, "job", _build_job)


def _build_job(data: Mapping[str, Any]) -> Job:
    return Job(
        id=str(data["id"]),
        kind=JobKind(data["kind"]),
        created_at=decode_required_time(data["created_at"]),
        args=dict(data["args"] or {}),
        state=JobState(data["state"]),
        progress=float(data["progress"]),
        message=data["message"],
        result=data["result"],
        started_at=decode_time(data["started_at"]),
        finished_at=decode_time(data["finished_at"]),
        heartbeat_at=decode_time(data["heartbeat_at"]),
        attempts=int(data["attempts"]),
    )


# ------------------------------------------------------------------ model events


def encode_model_event(event: ModelEvent) -> dict[str, Any]:
    """A model event as a JSON-ready dict (MESSAGE_VERSION)."""
    return {
        "version": MESSAGE_VERSION,
        "kind": event.kind.value,
        "model_id": event.model_id,
        "workflow_id": event.workflow_id,
        "message": event.message,
        "episode": event.episode,
    }


def decode_model_event(data: object) -> ModelEvent:
    """The model event back; a MessageError when `data` is not one of this version."""
    return _decode(data, "model", _build_model_event)


def _build_model_event(data: Mapping[str, Any]) -> ModelEvent:
    return ModelEvent(
        kind=ModelEventKind(data["kind"]),
        model_id=str(data["model_id"]),
        workflow_id=str(data["workflow_id"]),
        # Optional: messages sent before drift alarms existed have neither.
        message=_optional_text(data.get("message")),
        episode=_optional_text(data.get("episode")),
    )


def _optional_text(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"expected text or null, not {value!r}")
    return value
