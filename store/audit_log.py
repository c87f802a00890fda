"""Reading the whole decision log back to verify it: each workflow's hash chain, every
stored node of its Merkle tree, and every checkpoint's signature and root."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from domain import merkle
from domain.audit import ChainBreak, ChainVerifier, leaf_text
from domain.checkpoints import origin_for, parse_checkpoint_note
from domain.errors import InvalidInputError
from store.database import Database
from store.loading import load_all
from store.log_keys import verify_signature
from store.tables import (
    DecisionRow,
    decisions_t,
    log_checkpoints_t,
    log_nodes_t,
    pending_decisions_t,
    workflows_t,
)

BATCH = 5_000


@dataclass(frozen=True)
class ChainReport:
    workflow_key: str
    records: int
    problem: ChainBreak | None
    checkpoints: int = 0
    pending: int = 0
    """Committed decisions still waiting to be sealed (not part of the log yet)."""


@dataclass(frozen=True)
class LogIdentity:
    """Who signs checkpoints: the deployment's name in origins and its public key
    (None: signatures are not checked, and the report says so)."""

    deployment: str
    public_key: str | None


async def verify_log(database: Database, identity: LogIdentity | None = None) -> list[ChainReport]:
    """Verify every workflow's chain, tree and checkpoints, reading the log in batches."""
    reports = []
    async with database.read_sessions()() as session:
        heads = list(
            await session.execute(
                sa.select(
                    workflows_t.c.id,
                    workflows_t.c.key,
                    workflows_t.c.chain_seq,
                    workflows_t.c.chain_head,
                ).order_by(workflows_t.c.key)
            )
        )
        for head in heads:
            reports.append(await _verify_workflow(session, head, identity))
    return reports


async def _verify_workflow(
    session: AsyncSession, head: sa.Row[Any], identity: LogIdentity | None
) -> ChainReport:
    verifier, records, problem, after = ChainVerifier(), 0, None, 0
    size, peaks = 0, dict[merkle.Node, bytes]()
    while problem is None:
        rows = await load_all(
            session,
            sa.select(DecisionRow)
            .where(decisions_t.c.workflow_id == head.id, decisions_t.c.seq > after)
            .order_by(decisions_t.c.seq)
            .limit(BATCH),
        )
        if not rows:
            break
        leaves = []
        for row in rows:
            records += 1
            decision = row.to_domain()
            problem = verifier.feed(decision)
            if problem is None and leaf_text(decision) != row.leaf:
                problem = ChainBreak(row.id, row.seq, "its leaf does not match its record (edited)")
            if problem is not None:
                break
            leaves.append(merkle.leaf_hash(row.leaf.encode("utf-8")))
        if problem is not None:
            break
        written, _ = merkle.append_leaves(size, peaks, leaves)
        problem = await _compare_nodes(session, head.id, written, rows)
        known = dict(peaks) | dict(written)
        size += len(rows)
        peaks = {node: known[node] for node in merkle.root_nodes(size)}
        after = rows[-1].seq
    if problem is None:
        problem = verifier.finish(head.chain_seq, head.chain_head)
    if problem is None:
        problem = await _extra_nodes(session, head.id, size)
    checkpoints = 0
    if problem is None:
        checkpoints, problem = await _verify_checkpoints(session, head, identity)
    pending = await session.execute(
        sa.select(sa.func.count()).where(pending_decisions_t.c.workflow_id == head.id)
    )
    return ChainReport(head.key, records, problem, checkpoints, int(pending.scalar_one()))


async def _compare_nodes(
    session: AsyncSession,
    workflow_id: str,
    expected: list[tuple[merkle.Node, bytes]],
    rows: Sequence[DecisionRow],
) -> ChainBreak | None:
    """The first stored node that differs from (or is missing against) the recomputed one."""
    c = log_nodes_t.c
    first, last = rows[0].seq - 1, rows[-1].seq - 1
    stored: dict[merkle.Node, bytes] = {}
    for level in sorted({node[0] for node, _ in expected}):
        result = await session.execute(
            sa.select(c.level, c.idx, c.hash).where(
                c.workflow_id == workflow_id,
                c.level == level,
                c.idx.between(first >> level, last >> level),
            )
        )
        stored |= {(row.level, row.idx): bytes(row.hash) for row in result}
    for (level, idx), value in expected:
        if stored.get((level, idx)) != value:
            leaf = idx << level
            row = rows[min(max(leaf - first, 0), len(rows) - 1)]
            what = "is missing" if (level, idx) not in stored else "does not match the leaves"
            return ChainBreak(
                row.id,
                leaf + 1,
                f"stored tree node (level {level}, index {idx}) {what} "
                f"(records {leaf + 1} to {(idx + 1) << level})",
            )
    return None


async def _extra_nodes(session: AsyncSession, workflow_id: str, size: int) -> ChainBreak | None:
    c = log_nodes_t.c
    result = await session.execute(sa.select(sa.func.count()).where(c.workflow_id == workflow_id))
    count = int(result.scalar_one())
    expected = 2 * size - bin(size).count("1")
    if count != expected:
        return ChainBreak(
            "", size, f"the tree holds {count} stored nodes where {size} records make {expected}"
        )
    return None


async def _verify_checkpoints(
    session: AsyncSession, head: sa.Row[Any], identity: LogIdentity | None
) -> tuple[int, ChainBreak | None]:
    c = log_checkpoints_t.c
    rows = list(
        await session.execute(
            sa.select(log_checkpoints_t).where(c.workflow_id == head.id).order_by(c.tree_size)
        )
    )
    for row in rows:
        problem = await _checkpoint_problem(session, head, row, identity)
        if problem is not None:
            return len(rows), ChainBreak(
                "", row.tree_size, f"checkpoint at tree size {row.tree_size}: {problem}"
            )
    return len(rows), None


async def _checkpoint_problem(
    session: AsyncSession, head: sa.Row[Any], row: sa.Row[Any], identity: LogIdentity | None
) -> str | None:
    try:
        stated = parse_checkpoint_note(row.note.encode("utf-8"))
    except InvalidInputError as error:
        return f"its note is malformed ({error.message})"
    if stated.tree_size != row.tree_size or stated.root_hash.hex() != row.root_hash:
        return "its note states another tree than its columns"
    if row.tree_size > head.chain_seq:
        return f"it is beyond the log, which holds {head.chain_seq} records"
    nodes = await _root_nodes(session, head.id, row.tree_size)
    if merkle.tree_root(row.tree_size, lambda wanted: nodes) != stated.root_hash:
        return "its root is not the root of the log at that size (a forked log)"
    if identity is not None:
        if stated.origin != origin_for(identity.deployment, head.key):
            return f"its origin {stated.origin!r} is not this deployment's"
        if identity.public_key is not None and not verify_signature(
            identity.public_key, row.note.encode("utf-8"), _b64(row.signature)
        ):
            return "its signature does not verify with this deployment's key (forged)"
    return None


async def _root_nodes(
    session: AsyncSession, workflow_id: str, size: int
) -> dict[merkle.Node, bytes]:
    wanted = merkle.root_nodes(size)
    c = log_nodes_t.c
    result = await session.execute(
        sa.select(c.level, c.idx, c.hash).where(
            c.workflow_id == workflow_id, sa.tuple_(c.level, c.idx).in_(wanted)
        )
    )
    return {(row.level, row.idx): bytes(row.hash) for row in result}


def _b64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        return b""
