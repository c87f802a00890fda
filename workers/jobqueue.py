"""Where jobs run: arq workers on Redis, or tasks in this process (the embedded default).

Both run the same function, workers.execute.execute_job, on a job id; the job's
state lives in the database, so `job(id)` and `jobProgress` read the same
either way. Jobs are idempotent: arq may run one twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from arq.connections import ArqRedis

log = logging.getLogger("arbiter.jobs")

ARQ_FUNCTION = "run_job"


class JobQueue(Protocol):
    async def start(self, runner: Callable[[str], Awaitable[None]]) -> None: ...
    async def stop(self) -> None: ...
    async def enqueue(self, job_id: str, *, defer_seconds: float = 0, attempt: int = 0) -> None:
        """Hand the job to a worker; raises when the queue cannot be reached."""
        ...


class InProcessJobs:
    """Runs each job as an asyncio task of this process; CPU-bound work inside a job
    goes to a thread (asyncio.to_thread) so that the event loop keeps serving."""

    def __init__(self) -> None:
        self._runner: Callable[[str], Awaitable[None]] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self, runner: Callable[[str], Awaitable[None]]) -> None:
        self._runner = runner

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()

    async def enqueue(self, job_id: str, *, defer_seconds: float = 0, attempt: int = 0) -> None:
        if self._runner is None:
            return  # not started (e.g. a command-line run): the job stays QUEUED in the database
        runner = self._runner

        async def run() -> None:
            if defer_seconds > 0:
                await asyncio.sleep(defer_seconds)
            try:
                await runner(job_id)
            except Exception:
                log.exception("job %s crashed", job_id)

        task = asyncio.create_task(run(), name=f"arbiter-job-{job_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait until no job task is left (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


class ArqJobs:
    """Enqueues onto arq's Redis queue; `arbiter worker` processes run them."""

    def __init__(self, redis_url: str) -> None:
        self.redis_url = redis_url
        self._pool: ArqRedis | None = None

    async def start(self, runner: Callable[[str], Awaitable[None]]) -> None:
        return None

    async def _connection(self) -> ArqRedis:
        if self._pool is None:
            from arq import create_pool
            from arq.connections import RedisSettings

            settings = RedisSettings.from_dsn(self.redis_url)
            settings.conn_retries = 0
            settings.conn_timeout = 2
            self._pool = await create_pool(settings)
        return self._pool

    async def stop(self) -> None:
        if self._pool is not None:
            with contextlib.suppress(Exception):
                await self._pool.aclose()
            self._pool = None

    async def enqueue(self, job_id: str, *, defer_seconds: float = 0, attempt: int = 0) -> None:
        pool = await self._connection()
        await pool.enqueue_job(
            ARQ_FUNCTION,
            job_id,
            _job_id=f"{job_id}:{attempt}",
            _defer_by=defer_seconds if defer_seconds > 0 else None,
        )


async def enqueue_all(queue: JobQueue, job_ids: Sequence[str]) -> None:
    """Enqueue after commit; a failure leaves the jobs QUEUED for the sweep to re-enqueue."""
    for job_id in job_ids:
        try:
            await queue.enqueue(job_id)
        except Exception as error:
            log.warning("could not enqueue job %s (%s); the sweep will retry", job_id, error)
