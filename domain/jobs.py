"""Background jobs as the database keeps them: what, how far, how it ended."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from domain.ids import new_id


class JobKind(StrEnum):
    RETRAIN = "RETRAIN"
    MINE_THEMES = "MINE_THEMES"
    SLA_SWEEP = "SLA_SWEEP"
    WEBHOOK_DELIVERY = "WEBHOOK_DELIVERY"


class JobState(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


FINISHED = frozenset({JobState.SUCCEEDED, JobState.FAILED})


@dataclass
class Job:
    id: str
    kind: JobKind
    created_at: datetime
    args: dict[str, Any] = field(default_factory=dict)
    state: JobState = JobState.QUEUED
    progress: float = 0.0
    message: str | None = None
    result: dict[str, Any] | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    heartbeat_at: datetime | None = None
    attempts: int = 0

    @classmethod
    def new(cls, kind: JobKind, now: datetime, **args: Any) -> Job:
        return cls(id=new_id("job"), kind=kind, created_at=now, args=args)

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    def is_stale(self, now: datetime, after: timedelta) -> bool:
        """RUNNING with no heartbeat for `after`: its worker died."""
        beat = self.heartbeat_at or self.started_at
        return self.state is JobState.RUNNING and (beat is None or now - beat > after)
