"""Group commit of the decision log: one sealing transaction for every decision of a
workflow that arrived while the previous one committed.

A decision's own transaction only writes it as pending (store.repositories.SqlDecisions);
after its commit the runner calls `LogSealer.seal`, which returns once the decision has
its place in the chain and the tree. Per workflow, one task in this process drains the
waiting decisions batch by batch; each batch is one transaction (store.log_tree.
seal_pending) that seals everything pending in the workflow, other processes' decisions
included, and those processes find theirs already sealed when their turn comes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker

from domain.clock import utcnow
from domain.decisions import Decision
from domain.errors import DomainError
from domain.events import QueueEventKind
from domain.webhooks import Webhook
from store.conflicts import is_transient_conflict
from store.log_tree import (
    Place,
    Sealed,
    Signing,
    pending_workflows,
    seal_now,
    seal_pending,
    sealed_places,
)
from store.webhooks import SqlWebhooks

log = logging.getLogger("arbiter.log")

RETRIES = 5
HOOKS_SECONDS = 2.0
WAIT_FOR_HEAD_AT = 16
"""A batch of at least this many decisions (a submission's automated ones) waits for its
workflow's chain head rather than going pending: the head is held only while a batch is
sealed, and writing hundreds of decisions pending, then reading them back in a second
transaction, costs more than that wait."""
STRAGGLER_SECONDS = 2.0
"""A pending decision older than this has lost its sealer (its process died): the sweep seals it."""


class LogSealError(DomainError):
    """A committed decision could not be found sealed (it is sealed later by the sweep)."""


class LogSealer:
    """Seals committed decisions into their workflows' logs, batching concurrent ones."""

    def __init__(
        self,
        sessions: async_sessionmaker[Any],
        signing: Signing | None = None,
        checkpoint_seconds: float = 0.0,
        enqueue: Callable[[list[str]], Awaitable[None]] | None = None,
    ) -> None:
        self._sessions = sessions
        self.signing = signing
        self.checkpoint_seconds = checkpoint_seconds
        self._enqueue = enqueue
        self._hooks: dict[str, tuple[float, list[Webhook]]] = {}
        self._waiting: dict[str, dict[str, asyncio.Future[Place]]] = {}
        self._draining: dict[str, asyncio.Task[None]] = {}
        self._last_checkpoint: dict[str, float] = {}
        self._late_checkpoints: dict[str, asyncio.TimerHandle] = {}
        self._checkpointing: set[asyncio.Task[None]] = set()
        self.batches = 0
        """Sealing transactions run by this process (a figure for benchmarks and tests)."""

    async def seal(self, decisions: Sequence[Decision]) -> None:
        """Return once every one of `decisions` (committed) is sealed; fills in their
        seq, prev_hash, audit_hash and leaf."""
        if not decisions:
            return
        loop = asyncio.get_running_loop()
        waits = []
        for decision in decisions:
            future: asyncio.Future[Place] = loop.create_future()
            self._waiting.setdefault(decision.workflow_id, {})[decision.id] = future
            waits.append((decision, future))
        for workflow_id in {d.workflow_id for d in decisions}:
            if workflow_id not in self._draining:
                self._draining[workflow_id] = asyncio.create_task(
                    self._drain(workflow_id), name=f"arbiter-log-sealer-{workflow_id}"
                )
        for decision, future in waits:
            (await asyncio.shield(future)).fill(decision)

    async def seal_now(self, session: Any, decisions: Sequence[Decision]) -> Sealed | None:
        """Seal decisions of one workflow in the caller's transaction (`session`), when
        the log is idle: this process is sealing no batch (of any workflow: then
        decisions are arriving faster than one at a time, and they join batches) and
        no other transaction holds the workflow's chain head. None: write them as
        pending. A batch of WAIT_FOR_HEAD_AT or more waits for the head instead.
        After commit, `sealed_here` must hear of what this sealed."""
        workflow_id = decisions[0].workflow_id
        wait = len(decisions) >= WAIT_FOR_HEAD_AT
        if self._draining and not wait:
            return None
        due = self._checkpoint_due(workflow_id)
        hooks = await self._checkpoint_hooks(workflow_id, session) if due else []
        return await seal_now(
            session,
            workflow_id,
            decisions,
            utcnow(),
            signing=self.signing,
            checkpoint_due=due,
            checkpoint_hooks=hooks,
            wait=wait,
        )

    async def sealed_here(self, sealed: Sequence[Sealed]) -> None:
        """Batches sealed by committed transactions of this process (`seal_now`): enqueue
        their checkpoints' deliveries; a checkpoint follows within the interval."""
        for result in sealed:
            await self._after_batch(result.decisions[0].workflow_id, result)

    async def seal_stragglers(self) -> int:
        """Seal decisions whose process died between their commit and their sealing."""
        before = utcnow() - timedelta(seconds=STRAGGLER_SECONDS)
        async with self._sessions() as session:
            workflow_ids = await pending_workflows(session, before)
        sealed = 0
        for workflow_id in workflow_ids:
            sealed += len((await self._seal_once(workflow_id)).decisions)
        if sealed:
            log.warning("sealed %d decisions left pending by a process that stopped", sealed)
        return sealed

    def forget_hooks(self) -> None:
        """Webhooks changed here: read them again before the next checkpoint."""
        self._hooks.clear()

    async def _checkpoint_hooks(self, workflow_id: str, session: Any) -> list[Webhook]:
        """The workflow's webhooks that want CHECKPOINT events, read (in `session`) at most
        every HOOKS_SECONDS (a webhook made in another process waits that long for its
        first)."""
        cached = self._hooks.get(workflow_id)
        if cached is not None and time.monotonic() - cached[0] < HOOKS_SECONDS:
            return cached[1]
        hooks = await SqlWebhooks(session).active_of([workflow_id])
        wanted = [h for h in hooks if h.wants(QueueEventKind.CHECKPOINT)]
        self._hooks[workflow_id] = (time.monotonic(), wanted)
        return wanted

    async def stop(self) -> None:
        for handle in self._late_checkpoints.values():
            handle.cancel()
        self._late_checkpoints.clear()
        tasks = [*self._draining.values(), *self._checkpointing]
        for task in tasks:
            with contextlib.suppress(Exception):
                await task

    async def _drain(self, workflow_id: str) -> None:
        try:
            # No await between this test and the `finally`: a seal() that finds the
            # task gone starts another, one that finds it running is served by it.
            while self._waiting.get(workflow_id):
                batch = self._waiting.pop(workflow_id)
                try:
                    done = (await self._seal_once(workflow_id)).decisions
                    sealed = {d.id: Place.of(d) for d in done}
                    missing = [i for i in batch if i not in sealed]
                    if missing:
                        sealed |= await self._sealed_elsewhere(missing)
                except Exception as error:
                    for future in batch.values():
                        if not future.done():
                            future.set_exception(error)
                    continue
                for decision_id, future in batch.items():
                    if future.done():
                        continue
                    if decision_id in sealed:
                        future.set_result(sealed[decision_id])
                    else:
                        future.set_exception(
                            LogSealError(f"decision {decision_id} is not in the log yet")
                        )
        finally:
            del self._draining[workflow_id]

    async def _seal_once(self, workflow_id: str, *, checkpoint_head: bool = False) -> Sealed:
        for attempt in range(RETRIES):
            try:
                due = self._checkpoint_due(workflow_id) or checkpoint_head
                async with self._sessions() as session:
                    hooks = await self._checkpoint_hooks(workflow_id, session) if due else []
                    result = await seal_pending(
                        session,
                        workflow_id,
                        utcnow(),
                        signing=self.signing,
                        checkpoint_due=due,
                        checkpoint_head=checkpoint_head,
                        checkpoint_hooks=hooks,
                    )
                    await session.commit()
                await self._after_batch(workflow_id, result)
                return result
            except Exception as error:
                if attempt == RETRIES - 1 or not is_transient_conflict(error):
                    raise
                await asyncio.sleep(0.005 * (attempt + 1))
        raise AssertionError("unreachable")

    async def _after_batch(self, workflow_id: str, result: Sealed) -> None:
        self.batches += 1
        if result.jobs and self._enqueue is not None:
            await self._enqueue(result.jobs)
        if result.checkpoint is not None:
            self._last_checkpoint[workflow_id] = time.monotonic()
        elif result.decisions and self.signing is not None:
            self._checkpoint_later(workflow_id)

    async def _sealed_elsewhere(self, decision_ids: list[str]) -> dict[str, Place]:
        async with self._sessions() as session:
            return await sealed_places(session, decision_ids)

    def _checkpoint_due(self, workflow_id: str) -> bool:
        if self.signing is None:
            return False
        last = self._last_checkpoint.get(workflow_id)
        return last is None or time.monotonic() - last >= self.checkpoint_seconds

    def _checkpoint_later(self, workflow_id: str) -> None:
        """Make sure a checkpoint covers the newest decisions within the interval."""
        if workflow_id in self._late_checkpoints:
            return
        loop = asyncio.get_running_loop()

        def fire() -> None:
            self._late_checkpoints.pop(workflow_id, None)
            task = asyncio.create_task(self._checkpoint_now(workflow_id))
            self._checkpointing.add(task)
            task.add_done_callback(self._checkpointing.discard)

        self._late_checkpoints[workflow_id] = loop.call_later(self.checkpoint_seconds, fire)

    async def _checkpoint_now(self, workflow_id: str) -> None:
        self._last_checkpoint.pop(workflow_id, None)
        try:
            await self._seal_once(workflow_id, checkpoint_head=True)
        except Exception:
            log.exception("the late checkpoint of workflow %s failed", workflow_id)
