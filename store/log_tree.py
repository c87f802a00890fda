"""The verifiable log in the database: sealing pending decisions into each workflow's
hash chain and Merkle tree (one transaction for a whole batch), and reading roots,
proofs and checkpoints back from stored nodes.

Sealing takes the workflow's chain head with an UPDATE (a row lock on PostgreSQL, the
write lock on SQLite), moves every pending decision of the workflow into `decisions`
in arrival order, stores the perfect nodes they complete and, when one is due, a
signed checkpoint. Whoever holds the head seals everything pending, whichever process
wrote it: that is the group commit.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from domain import audit, merkle
from domain.checkpoints import checkpoint_note, origin_for
from domain.decisions import Decision
from domain.ids import new_id
from domain.jobs import Job, JobKind
from domain.merkle import Node
from domain.outbox import checkpoint_deliveries
from domain.webhooks import Webhook
from store.bulk_insert import insert_many
from store.jobs import SqlJobs
from store.log_keys import LogSigner
from store.log_pending import decision_of_record
from store.tables import (
    DecisionRow,
    LogCheckpointRow,
    log_checkpoints_t,
    log_nodes_t,
    pending_decisions_t,
    values_of,
    workflows_t,
)
from store.tables import decisions_t as decisions_table
from store.webhooks import SqlWebhooks


@dataclass(frozen=True)
class Checkpoint:
    """A signed tree head of one workflow's log."""

    workflow_id: str
    tree_size: int
    root_hash: bytes
    note: str
    signature: str
    created_at: datetime
    event_id: str = ""
    """The id of its CHECKPOINT webhook event (stored checkpoints only)."""


@dataclass(frozen=True)
class Signing:
    """What makes checkpoints: the deployment's signer and its name in origin lines."""

    signer: LogSigner
    deployment: str

    def checkpoint(
        self, workflow_id: str, workflow_key: str, size: int, root: bytes, now: datetime
    ) -> Checkpoint:
        note = checkpoint_note(origin_for(self.deployment, workflow_key), size, root)
        signature = base64.b64encode(self.signer.sign(note)).decode("ascii")
        return Checkpoint(
            workflow_id, size, root, note.decode("utf-8"), signature, now, new_id("evt")
        )


@dataclass(frozen=True)
class Sealed:
    """What one sealing transaction did: the decisions it sealed, the tree size after
    it, and the checkpoint it stored (None when none was due or there is no key)."""

    decisions: list[Decision]
    tree_size: int
    root: bytes | None
    checkpoint: Checkpoint | None
    jobs: list[str] = field(default_factory=list)
    """WEBHOOK_DELIVERY jobs of the checkpoint, to enqueue after commit."""


async def seal_pending(
    session: AsyncSession,
    workflow_id: str,
    now: datetime,
    *,
    signing: Signing | None = None,
    checkpoint_due: bool = True,
    checkpoint_head: bool = False,
    checkpoint_hooks: Sequence[Webhook] = (),
) -> Sealed:
    """Seal every pending decision of the workflow, in this session's transaction.

    With `checkpoint_head` and nothing pending, sign the current head when no
    checkpoint covers it yet (the late checkpoint after a batch that made none).
    A stored checkpoint is delivered to `checkpoint_hooks` (the workflow's webhooks
    that want CHECKPOINT events), in this same transaction.
    """
    head = await _take_head(session, workflow_id, wait=True)
    assert head is not None
    return await _seal(
        session,
        head,
        workflow_id,
        now,
        (),
        signing=signing,
        checkpoint_due=checkpoint_due,
        checkpoint_head=checkpoint_head,
        checkpoint_hooks=checkpoint_hooks,
    )


async def seal_now(
    session: AsyncSession,
    workflow_id: str,
    decisions: Sequence[Decision],
    now: datetime,
    *,
    signing: Signing | None = None,
    checkpoint_due: bool = True,
    checkpoint_hooks: Sequence[Webhook] = (),
    wait: bool = False,
) -> Sealed | None:
    """Seal `decisions`, written in this transaction, into the workflow's log after every
    decision pending there, in this transaction; None, doing nothing, when another
    transaction holds the chain head (then they wait as pending for its batch), unless
    told to `wait` for it.

    A decision that finds its workflow's log idle so takes one transaction, not two
    (its own and a sealing one); the head stays locked until this transaction ends.
    """
    head = await _take_head(session, workflow_id, wait=wait)
    if head is None:
        return None
    return await _seal(
        session,
        head,
        workflow_id,
        now,
        decisions,
        signing=signing,
        checkpoint_due=checkpoint_due,
        checkpoint_hooks=checkpoint_hooks,
    )


def _head_statement(*, wait: bool) -> Any:
    w = workflows_t.c
    which: Any = w.id == sa.bindparam("workflow")
    if not wait:
        free = sa.select(w.id).where(which).with_for_update(key_share=True, skip_locked=True)
        which = w.id.in_(free.scalar_subquery())
    return (
        workflows_t.update()
        .where(which)
        .values(chain_seq=w.chain_seq)
        .returning(w.chain_seq, w.chain_head, w.key, w.log_peaks)
    )


# Built once (each sealing runs them), not built and cache-keyed anew for every batch.
_TAKE_HEAD = _head_statement(wait=True)
_TAKE_FREE_HEAD = _head_statement(wait=False)
_TAKE_PENDING = (
    pending_decisions_t.delete()
    .where(pending_decisions_t.c.workflow_id == sa.bindparam("workflow"))
    .returning(pending_decisions_t.c.arrival, pending_decisions_t.c.record)
)
_MOVE_HEAD = (
    workflows_t.update()
    .where(workflows_t.c.id == sa.bindparam("workflow"))
    .values(
        chain_seq=sa.bindparam("new_seq"),
        chain_head=sa.bindparam("new_head"),
        log_peaks=sa.bindparam("new_peaks"),
    )
)
_INSERT_CHECKPOINT = log_checkpoints_t.insert()


async def _take_head(session: AsyncSession, workflow_id: str, *, wait: bool) -> Any:
    """The workflow's chain head, locked until the transaction ends (an UPDATE: a row lock
    on PostgreSQL, the write lock on SQLite); without `wait`, None when another
    transaction holds it."""
    statement = _TAKE_HEAD if wait else _TAKE_FREE_HEAD
    return (await session.execute(statement, {"workflow": workflow_id})).first()


async def _seal(
    session: AsyncSession,
    head: Any,
    workflow_id: str,
    now: datetime,
    also: Sequence[Decision],
    *,
    signing: Signing | None,
    checkpoint_due: bool,
    checkpoint_head: bool = False,
    checkpoint_hooks: Sequence[Webhook],
) -> Sealed:
    """Seal what is pending in the workflow, then `also`, after `head` (taken)."""
    rows = (await session.execute(_TAKE_PENDING, {"workflow": workflow_id})).all()
    size = head.chain_seq
    if not rows and not also:
        checkpoint = None
        if (
            checkpoint_head
            and signing is not None
            and size > 0
            and await latest_checkpoint_size(session, workflow_id) != size
        ):
            nodes = await fetch_nodes(session, workflow_id, merkle.root_nodes(size))
            root = merkle.tree_root(size, lambda wanted: nodes)
            checkpoint = signing.checkpoint(workflow_id, head.key, size, root, now)
            await store_checkpoint(session, checkpoint)
        jobs = await _announce(session, checkpoint, checkpoint_hooks)
        return Sealed([], size, None, checkpoint, jobs)
    decisions = [decision_of_record(row.record) for row in sorted(rows, key=lambda r: r.arrival)]
    decisions.extend(also)
    seq, prev = size, head.chain_head
    for decision in decisions:
        audit.seal(decision, seq, prev)
        seq, prev = decision.seq, decision.audit_hash
    peaks = _unpacked(size, head.log_peaks)
    if peaks is None:
        peaks = await fetch_nodes(session, workflow_id, merkle.root_nodes(size))
    written, root = merkle.append_leaves(
        size, peaks, [merkle.leaf_hash(d.leaf.encode("utf-8")) for d in decisions]
    )
    known = peaks | dict(written)
    new_peaks = b"".join(known[node] for node in merkle.root_nodes(seq))
    checkpoint = None
    if signing is not None and checkpoint_due:
        checkpoint = signing.checkpoint(workflow_id, head.key, seq, root, now)
    # One statement per table, run for many rows. (One statement of data-modifying CTEs
    # changed text with the batch's size, so it was compiled and prepared for every
    # batch, and measured slower: BENCHMARKS.md, 9.)
    await insert_many(session, decisions_table, [DecisionRow.values(d) for d in decisions])
    await insert_many(
        session,
        log_nodes_t,
        [
            {"workflow_id": workflow_id, "level": level, "idx": idx, "hash": value}
            for (level, idx), value in written
        ],
    )
    await session.execute(
        _MOVE_HEAD,
        {"workflow": workflow_id, "new_seq": seq, "new_head": prev, "new_peaks": new_peaks},
    )
    if checkpoint is not None:
        await store_checkpoint(session, checkpoint)
    jobs = await _announce(session, checkpoint, checkpoint_hooks)
    return Sealed(decisions, seq, root, checkpoint, jobs)


def _unpacked(size: int, packed: bytes | None) -> dict[Node, bytes] | None:
    """The root nodes' hashes kept in the head row; None when they are not there (a log
    sealed before they were kept) or do not fit the size."""
    wanted = merkle.root_nodes(size)
    if packed is None or len(packed) != merkle.HASH_SIZE * len(wanted):
        return None
    step = merkle.HASH_SIZE
    return {node: bytes(packed[i * step : (i + 1) * step]) for i, node in enumerate(wanted)}


async def _announce(
    session: AsyncSession, checkpoint: Checkpoint | None, hooks: Sequence[Webhook]
) -> list[str]:
    """One delivery (and its job) per webhook that wants the new checkpoint."""
    if checkpoint is None:
        return []
    deliveries = checkpoint_deliveries(checkpoint.event_id, checkpoint.created_at, hooks)
    if not deliveries:
        return []
    jobs = [Job.new(JobKind.WEBHOOK_DELIVERY, d.created_at, delivery_id=d.id) for d in deliveries]
    await SqlWebhooks(session).add_deliveries(deliveries)
    await SqlJobs(session).add_many(jobs)
    return [job.id for job in jobs]


async def store_checkpoint(session: AsyncSession, checkpoint: Checkpoint) -> None:
    await session.execute(
        _INSERT_CHECKPOINT,
        values_of(
            LogCheckpointRow.model_construct(
                workflow_id=checkpoint.workflow_id,
                tree_size=checkpoint.tree_size,
                root_hash=checkpoint.root_hash.hex(),
                note=checkpoint.note,
                signature=checkpoint.signature,
                event_id=checkpoint.event_id,
                created_at=checkpoint.created_at,
            )
        ),
    )


async def checkpoint_event(session: AsyncSession, event_id: str) -> tuple[str, Checkpoint] | None:
    """The stored checkpoint whose CHECKPOINT event this is, with its workflow's key."""
    c = log_checkpoints_t.c
    row = (
        await session.execute(
            sa.select(log_checkpoints_t, workflows_t.c.key)
            .join(workflows_t, workflows_t.c.id == c.workflow_id)
            .where(c.event_id == event_id)
        )
    ).first()
    return None if row is None else (row.key, checkpoint_of_row(row))


def checkpoint_of_row(row: Any) -> Checkpoint:
    """The checkpoint a `log_checkpoints` row holds."""
    return Checkpoint(
        row.workflow_id,
        row.tree_size,
        bytes.fromhex(row.root_hash),
        row.note,
        row.signature,
        row.created_at,
        row.event_id,
    )


async def latest_checkpoint_size(session: AsyncSession, workflow_id: str) -> int | None:
    c = log_checkpoints_t.c
    result = await session.execute(
        sa.select(sa.func.max(c.tree_size)).where(c.workflow_id == workflow_id)
    )
    size = result.scalar_one_or_none()
    return None if size is None else int(size)


async def fetch_nodes(
    session: AsyncSession, workflow_id: str, nodes: Iterable[Node]
) -> dict[Node, bytes]:
    """The stored hashes of `nodes`, in one statement (absent ones are left out)."""
    wanted = sorted(set(nodes))
    if not wanted:
        return {}
    c = log_nodes_t.c
    result = await session.execute(
        sa.select(c.level, c.idx, c.hash).where(
            c.workflow_id == workflow_id, sa.tuple_(c.level, c.idx).in_(wanted)
        )
    )
    return {(row.level, row.idx): bytes(row.hash) for row in result}


async def pending_workflows(session: AsyncSession, before: datetime) -> list[str]:
    """Workflows holding a decision that has waited since before `before` to be sealed."""
    c = pending_decisions_t.c
    result = await session.execute(sa.select(c.workflow_id).where(c.created_at < before).distinct())
    return sorted(result.scalars().all())


async def has_pending(session: AsyncSession, *, recommendation_id: str) -> bool:
    c = pending_decisions_t.c
    found = await session.execute(
        sa.select(c.arrival).where(c.recommendation_id == recommendation_id).limit(1)
    )
    return found.first() is not None


async def pending_workflow_of(session: AsyncSession, decision_id: str) -> str | None:
    c = pending_decisions_t.c
    found = await session.execute(sa.select(c.workflow_id).where(c.decision_id == decision_id))
    return found.scalar_one_or_none()


@dataclass(frozen=True)
class Place:
    """Where a sealed decision stands in its workflow's log."""

    seq: int
    prev_hash: str
    audit_hash: str
    leaf: str

    @classmethod
    def of(cls, decision: Decision) -> Place:
        return cls(decision.seq, decision.prev_hash, decision.audit_hash, decision.leaf)

    def fill(self, decision: Decision) -> None:
        """Give an unsealed copy of the decision its place."""
        decision.seq, decision.prev_hash = self.seq, self.prev_hash
        decision.audit_hash, decision.leaf = self.audit_hash, self.leaf


async def sealed_places(session: AsyncSession, decision_ids: list[str]) -> dict[str, Place]:
    """Where sealed decisions stand in the log, by id (unsealed ones are left out)."""
    c = decisions_table.c
    rows = await session.execute(
        sa.select(c.id, c.seq, c.prev_hash, c.audit_hash, c.leaf).where(c.id.in_(decision_ids))
    )
    return {row.id: Place(row.seq, row.prev_hash, row.audit_hash, row.leaf) for row in rows}
