"""Background jobs as the database keeps them: what, how far, how it ended.

The rules of a job's life are here, once: who may claim it (`claimable`), what
starting, reporting, re-queueing and finishing change, and when its worker is
presumed dead (`is_stale`). The store only loads and saves them.
"""

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
UNFINISHED = frozenset(set(JobState) - FINISHED)

STOPPED_BEATING = "the worker running it stopped (no heartbeat)"


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

    def claimable(self, now: datetime, stale_after: timedelta) -> bool:
        """A worker may run it: QUEUED, or RUNNING under a worker that stopped beating.

        Anything else (finished, or running with a fresh heartbeat elsewhere) is left
        alone, so that a second delivery of the same job does nothing.
        """
        return self.state is JobState.QUEUED or self.is_stale(now, stale_after)

    def start(self, now: datetime) -> None:
        """A worker claimed it: RUNNING from now, one more attempt."""
        self.state = JobState.RUNNING
        self.started_at = now
        self.heartbeat_at = now
        self.attempts += 1

    def report(self, progress: float, message: str | None, now: datetime) -> None:
        """How far it got (clamped to 0..1); a report is also a heartbeat."""
        self.progress = max(0.0, min(1.0, progress))
        self.message = message
        self.heartbeat_at = now

    def requeue(self, message: str) -> None:
        """Back to QUEUED, to be run again later."""
        self.state = JobState.QUEUED
        self.message = message

    def finish(
        self,
        state: JobState,
        message: str | None,
        now: datetime,
        result: dict[str, Any] | None = None,
    ) -> None:
        """SUCCEEDED (progress complete) or FAILED (progress stays where it stopped)."""
        self.state = state
        self.message = message
        self.result = result
        if state is JobState.SUCCEEDED:
            self.progress = 1.0
        self.finished_at = now

    def fail_if_stale(self, now: datetime, after: timedelta) -> bool:
        """FAILED if its worker stopped beating; whether it did."""
        if not self.is_stale(now, after):
            return False
        self.state = JobState.FAILED
        self.finished_at = now
        self.message = STOPPED_BEATING
        return True
