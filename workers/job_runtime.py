"""What a job handler may use of the process it runs in, and how it talks back.

A leaf: it imports types only, so that handlers, the job runner and the runtime
can all depend on it without depending on one another. workers.runtime.Runtime
implements JobRuntime.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from domain.jobs import Job
from domain.ports import UnitOfWork
from store.job_reads import JobReads
from store.uow import SqlUnitOfWork
from workers.bus import Envelope
from workers.jobqueue import JobQueue
from workers.log_sealer import LogSealer
from workers.options import RuntimeOptions

P = ParamSpec("P")
R = TypeVar("R")

Report = Callable[[float, str | None], Awaitable[None]]
"""`await report(progress, message)`: progress 0..1 for job(id) and jobProgress."""

JobResult = dict[str, Any]
"""What a job stores as its result (JSON); its "message" becomes the job's message."""


class RetryLater(Exception):
    """The job goes back to QUEUED; with a `delay`, it is enqueued again to run then.

    Without one, a run is already scheduled (this was a duplicate delivery of the
    job) and nothing more is enqueued.
    """

    def __init__(self, delay: float | None, message: str, attempt: int = 0) -> None:
        super().__init__(message)
        self.delay = delay
        self.message = message
        self.attempt = attempt


class JobRuntime(Protocol):
    """The database, the queue, the bus and the metrics, as a job handler sees them."""

    options: RuntimeOptions
    jobs: JobQueue

    @property
    def embedded(self) -> bool:
        """Jobs run in this process (no Redis)."""
        ...

    @property
    def sealer(self) -> LogSealer:
        """Seals committed decisions into the log (group commit)."""
        ...

    def unit_of_work(self) -> SqlUnitOfWork:
        """A new unit of work (one write transaction); nothing is kept without commit()."""
        ...

    def job_reads(self) -> AbstractAsyncContextManager[JobReads]:
        """Reads on a read session, outside any write transaction."""
        ...

    async def run(
        self,
        use_case: Callable[Concatenate[UnitOfWork, P], Awaitable[R]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> R:
        """Run a use case in its own unit of work, retrying transient conflicts whole."""
        ...

    async def publish(self, envelopes: list[Envelope]) -> None:
        """Publish ephemeral messages (progress, model events); never raises."""
        ...

    def observe_job(self, kind: str, seconds: float) -> None: ...
    def observe_webhook_failure(self) -> None: ...


Handler = Callable[[JobRuntime, Job, Report], Awaitable[JobResult | None]]
"""Runs one job of its kind: raises to fail it, RetryLater to run it again later."""
