"""What a process holds while it runs: the database, the event bus, the job queue,
the outbox publisher, and how to run a use case in its own unit of work.

The API and `arbiter worker` build the same Runtime, so that a use case run by
either publishes its events and enqueues its jobs the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Concatenate, ParamSpec, TypeVar

from domain.ports import UnitOfWork
from store.conflicts import is_transient_conflict
from store.database import Database
from store.job_reads import JobReads
from store.log_keys import load_signer
from store.log_tree import Signing
from store.queries import Reads
from store.uow import SqlUnitOfWork
from workers import metrics
from workers.bus import Envelope, EventBus, InProcessBus, RedisBus
from workers.draft_scoring import ActiveDraftScorer
from workers.execute import execute_job
from workers.jobqueue import ArqJobs, InProcessJobs, JobQueue, enqueue_all
from workers.log_sealer import LogSealer
from workers.options import RuntimeOptions
from workers.outbox import OutboxPublisher
from workers.schedule import parse_cron, retrain_forever, sweep_forever
from workers.scoring import ActiveModelScorer

__all__ = ["Runtime", "RuntimeOptions"]

P = ParamSpec("P")
R = TypeVar("R")
log = logging.getLogger("arbiter.runtime")

RETRIES = 4


class Runtime:
    def __init__(
        self,
        database: Database,
        redis_url: str | None = None,
        options: RuntimeOptions | None = None,
    ) -> None:
        """In-process bus and jobs without `redis_url`; Redis pub/sub and arq with it."""
        self.database = database
        self.options = options or RuntimeOptions()
        self.publisher = OutboxPublisher(
            database,
            InProcessBus(),
            relay_every=self.options.relay_seconds,
            on_published=self.observe_published,
        )
        self.bus: EventBus
        self.jobs: JobQueue
        if redis_url:
            self.bus = RedisBus(
                redis_url, self.options.redis_channel, catch_up=self.publisher.replay_since
            )
            self.jobs = ArqJobs(redis_url)
        else:
            self.bus = InProcessBus()
            self.jobs = InProcessJobs()
        self.publisher.bus = self.bus
        self._scorer: ActiveModelScorer | None = None
        self._draft_scorer: ActiveDraftScorer | None = None
        self._write_sessions = database.write_sessions()
        self._read_sessions = database.read_sessions()
        self._request_sessions = database.request_sessions()
        self._background: list[asyncio.Task[None]] = []
        self.signing = _signing(self.options)
        self.sealer = LogSealer(
            self._write_sessions,
            self.signing,
            self.options.log_checkpoint_seconds,
            enqueue=self._enqueue_jobs,
        )
        self.started = False

    @property
    def scorer(self) -> ActiveModelScorer:
        """The active-model scorer (domain.usecases.learning.CaseScorer), cached models."""
        if self._scorer is None:
            self._scorer = ActiveModelScorer(self)
        return self._scorer

    @property
    def draft_scorer(self) -> ActiveDraftScorer:
        """The active draft scorer (domain.usecases.drafts.DraftScorer), cached models."""
        if self._draft_scorer is None:
            self._draft_scorer = ActiveDraftScorer(self)
        return self._draft_scorer

    @property
    def embedded(self) -> bool:
        return isinstance(self.jobs, InProcessJobs)

    # ------------------------------------------------------------ lifecycle

    async def start(self, *, run_jobs: bool = True) -> None:
        """Start the bus listener, the outbox publisher and relay, and (embedded) the
        in-process job runner and SLA sweep."""
        parse_cron(self.options.retrain_cron)  # a bad expression stops start-up, loudly

        await self.bus.start()
        await self.publisher.start()
        self._background.append(
            asyncio.create_task(self._seal_stragglers(), name="arbiter-log-stragglers")
        )
        if run_jobs:

            async def runner(job_id: str) -> None:
                await execute_job(self, job_id)

            await self.jobs.start(runner)
            if self.embedded:
                self._background.append(
                    asyncio.create_task(sweep_forever(self), name="arbiter-sla-sweep")
                )
                self._background.append(
                    asyncio.create_task(retrain_forever(self), name="arbiter-retrain-schedule")
                )
        self.started = True

    async def stop(self) -> None:
        for task in self._background:
            task.cancel()
        for task in self._background:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._background = []
        await self.sealer.stop()
        await self.jobs.stop()
        await self.publisher.stop()
        await self.bus.stop()
        self.started = False

    # ------------------------------------------------------------ use cases

    def unit_of_work(self, *, sealing: bool = False) -> SqlUnitOfWork:
        """A unit of work; with `sealing`, one whose decisions may be sealed in its own
        transaction (then `run`'s after-commit steps must follow its commit)."""
        return SqlUnitOfWork(
            self._write_sessions,
            skip_locked=not self.database.is_sqlite,
            seal_now=self.sealer.seal_now if sealing else None,
        )

    def read_session(self) -> Any:
        return self._read_sessions()

    @contextlib.asynccontextmanager
    async def job_reads(self) -> AsyncIterator[JobReads]:
        """What jobs and scorers read, on a read session of its own."""
        async with self._read_sessions() as session:
            yield JobReads(session)

    def request_session(self) -> Any:
        """A session for an API request's reads (no transaction of its own on PostgreSQL)."""
        return self._request_sessions()

    async def run(
        self,
        use_case: Callable[Concatenate[UnitOfWork, P], Awaitable[R]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> R:
        """Run a use case in its own unit of work, retrying transient conflicts whole.

        After its commit, its events are published and its jobs enqueued; neither
        can fail the use case: the outbox relay and the sweep catch up.
        """
        for attempt in range(RETRIES):
            async with self.unit_of_work(sealing=True) as uow:
                try:
                    result = await use_case(uow, *args, **kwargs)
                except Exception as error:
                    if attempt == RETRIES - 1 or not is_transient_conflict(error):
                        raise
                else:
                    await self._after_commit(uow)
                    return result
                finally:
                    if uow.committed and not uow.after_commit_done:
                        await self._after_commit(uow)
            await asyncio.sleep(0.01 * (attempt + 1))
        raise AssertionError("unreachable")

    async def _after_commit(self, uow: SqlUnitOfWork) -> None:
        uow.after_commit_done = True
        if not uow.committed:
            return
        if uow.decisions.sealed:
            await self.sealer.sealed_here(uow.decisions.sealed)
        if uow.decisions.pending:
            # Before anyone hears of them: a decision is told only once it is in the log.
            await self.sealer.seal(uow.decisions.pending)
        if uow.events.added:
            self.publisher.notify(
                (e.recommendation.id for e in uow.events.added), uow.events.snapshots
            )
        if uow.jobs.added:
            await enqueue_all(self.jobs, [j.id for j in uow.jobs.added])
        if uow.webhooks.changed:
            self.sealer.forget_hooks()

    async def _enqueue_jobs(self, job_ids: list[str]) -> None:
        await enqueue_all(self.jobs, job_ids)

    async def _seal_stragglers(self) -> None:
        """At start: seal what a process that stopped left pending (the sweep does it later)."""
        try:
            await self.sealer.seal_stragglers()
        except Exception:
            log.exception("sealing decisions left pending failed; the sweep will try again")

    async def read(self, query: Callable[[Reads], Awaitable[R]]) -> R:
        async with self.read_session() as session:
            return await query(Reads(session))

    # ------------------------------------------------------------ metrics

    def observe_job(self, kind: str, seconds: float) -> None:
        metrics.JOB_SECONDS.labels(kind).observe(seconds)

    def observe_webhook_failure(self) -> None:
        metrics.WEBHOOK_FAILURES.inc()

    @staticmethod
    def observe_published(envelopes: list[Envelope]) -> None:
        now = datetime.now(UTC)
        for envelope in envelopes:
            at = envelope.data.get("at")
            if isinstance(at, str):
                metrics.EVENT_LAG_SECONDS.observe(
                    max(0.0, (now - datetime.fromisoformat(at)).total_seconds())
                )

    async def publish(self, envelopes: list[Envelope]) -> None:
        """Publish ephemeral messages (job progress); a failure is logged, not raised."""
        try:
            await self.bus.publish(envelopes)
        except Exception as error:
            log.warning("could not publish %d messages (%s)", len(envelopes), error)


def _signing(options: RuntimeOptions) -> Signing | None:
    """The checkpoint signer of ARBITER_LOG_SIGNING_KEY_FILE; None when unset (no
    checkpoints are made). A key file that is set but unusable stops start-up."""
    if options.log_signing_key_file is None:
        return None
    return Signing(load_signer(options.log_signing_key_file), options.log_origin)
