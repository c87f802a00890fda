"""Benchmark 8, proofs of the verifiable log at ten million decisions (issue 15).

One workflow whose Merkle tree holds N synthetic leaves (leaf i hashes
b"leaf {i}", RFC 6962: SHA-256(0x00 || leaf)) is loaded into a scratch database
migrated by the project's migrations (PostgreSQL: a database of its own, dropped at
the end; SQLite: a temporary file): every perfect node, ~2N rows of `log_nodes`,
computed in chunks by `TreeBuilder` (checked against domain.merkle.append_leaves on a
prefix first) and bulk-loaded (COPY on PostgreSQL, executemany in large transactions
on SQLite); the workflow's chain_seq is N, so the log holds N decisions.

Then, through store.log_reads.LogReads over an AsyncSession of the store's own engine
(store.database.connect, the sessions API requests use), in interleaved rounds:
an inclusion proof of a random leaf at a random size, one at the full size, a
consistency proof between two random sizes, and the baseline, a one-row primary-key
SELECT on log_nodes (the floor of one round trip). SQL statements are counted per
proof (a before_cursor_execute listener); every 50th proof is checked with
domain.merkle.verify_inclusion / verify_consistency against roots computed here,
independently of the database, from the loader's nodes and the leaves themselves.
Rehashing the leaves per proof, the naive baseline, is not feasible at this size.

    .venv/bin/python bench/log_proofs.py [--size 10000000] [--backends postgresql,sqlite]
        [--proofs 500] [--seed 15]

Each backend's figures replace its entry in bench/results/log_proofs.json.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import hashlib
import json
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    POSTGRES_ADMIN_URL,
    RESULTS,
    machine_info,
    save_result,
    scratch_postgres,
    summary,
)
from domain import merkle

WORKFLOW = "wf_log_bench"
CHUNK_LEVEL = 16
"""Leaves are hashed and loaded 2**16 at a time (about 131,000 rows per chunk)."""
KEEP_LEVEL = 10
"""Nodes at this level and above (about N / 512 of them) are kept in memory: the left
siblings of later chunks, and the independent roots the proofs are checked against."""
TARGET_MS = 50.0
VERIFY_EVERY = 50
KINDS = ("inclusion_random_size", "inclusion_full_size", "consistency", "point_select")
Row = tuple[int, int, bytes]


def leaf_hashes(start: int, end: int) -> list[bytes]:
    """The leaf hashes of synthetic leaves [start, end): SHA-256(0x00 || b"leaf {i}")."""
    sha = hashlib.sha256
    return [sha(b"\x00leaf %d" % i).digest() for i in range(start, end)]


def _pair_up(hashes: list[bytes]) -> list[bytes]:
    """The next level up: SHA-256(0x01 || left || right) of each complete pair."""
    sha = hashlib.sha256
    return [
        sha(b"\x01" + left + right).digest()
        for left, right in zip(hashes[::2], hashes[1::2], strict=False)
    ]


class TreeBuilder:
    """Every perfect node of a tree grown chunk by chunk, as append_leaves writes them
    (same nodes, same hashes; the order differs), without a dict entry per node.

    A chunk is 2**chunk_level leaves starting at a multiple of that size (only the
    last may be shorter): its perfect nodes come from pairing level by level, and the
    nodes above it from the kept nodes at the chunk's level and above.
    """

    def __init__(self, chunk_level: int = CHUNK_LEVEL, keep_level: int = KEEP_LEVEL) -> None:
        if keep_level > chunk_level:
            raise ValueError("keep_level must be at most chunk_level")
        self.chunk_level = chunk_level
        self.keep_level = keep_level
        self.size = 0
        self.kept: dict[merkle.Node, bytes] = {}

    def add(self, leaves: list[bytes]) -> list[Row]:
        """Append one chunk of leaf hashes; returns the nodes it completes as rows."""
        chunk = 1 << self.chunk_level
        if not leaves or len(leaves) > chunk or self.size % chunk:
            raise ValueError("chunks are full, non-empty and aligned; only the last is short")
        start, rows = self.size, list[Row]()
        level, hashes = 0, leaves
        while hashes:
            base = start >> level
            rows.extend((level, base + offset, value) for offset, value in enumerate(hashes))
            if level >= self.keep_level:
                self.kept.update(((level, base + k), v) for k, v in enumerate(hashes))
            if level == self.chunk_level:
                break
            level, hashes = level + 1, _pair_up(hashes)
        self.size += len(leaves)
        if len(leaves) == chunk:
            level, index = self.chunk_level, start >> self.chunk_level
            while index & 1:
                value = merkle.node_hash(self.kept[(level, index - 1)], self.kept[(level, index)])
                level, index = level + 1, index >> 1
                self.kept[(level, index)] = value
                rows.append((level, index, value))
        return rows

    def subtree(self, node: merkle.Node) -> bytes:
        """A perfect node's hash, from memory or rehashed from its (at most 512) leaves."""
        level, index = node
        if level >= self.keep_level:
            return self.kept[node]
        hashes = leaf_hashes(index << level, (index + 1) << level)
        for _ in range(level):
            hashes = _pair_up(hashes)
        return hashes[0]

    def root(self, tree_size: int) -> bytes:
        """The root at `tree_size` (<= the size built), without the database."""
        return merkle.root([self.subtree(node) for node in merkle.root_nodes(tree_size)])


def check_builder(size: int, chunk_level: int) -> None:
    """TreeBuilder writes exactly the nodes and root of domain.merkle.append_leaves."""
    leaves = leaf_hashes(0, size)
    if leaves[:3] != [merkle.leaf_hash(f"leaf {i}".encode()) for i in range(3)]:
        raise AssertionError("leaf hashes differ from domain.merkle.leaf_hash")
    expected, expected_root = merkle.append_leaves(0, {}, leaves)
    builder, built = TreeBuilder(chunk_level, min(KEEP_LEVEL, chunk_level)), []
    for lo in range(0, size, 1 << chunk_level):
        built += builder.add(leaves[lo : lo + (1 << chunk_level)])
    if sorted(built) != sorted((level, idx, h) for (level, idx), h in expected):
        raise AssertionError(f"TreeBuilder's nodes differ from append_leaves at {size} leaves")
    if builder.root(size) != expected_root:
        raise AssertionError(f"TreeBuilder's root differs from append_leaves at {size} leaves")


def chunks(size: int) -> Iterator[tuple[int, int]]:
    """The leaf ranges [lo, hi) of the chunks of a tree of `size` leaves."""
    step = 1 << CHUNK_LEVEL
    for lo in range(0, size, step):
        yield lo, min(size, lo + step)


# ---------------------------------------------------------------- loading


async def _insert_workflow(url: str, size: int) -> None:
    """The one workflow, its chain_seq at `size`: LogReads reads the tree's size there."""
    from datetime import UTC, datetime

    from store.database import connect
    from store.tables import workflows_t

    row: dict[str, Any] = {"id": WORKFLOW, "key": "log-bench", "name": "Log proofs bench"}
    row |= {"kind": "CLASSIFICATION", "reviewer_role": "VERIFIER", "actions": ["approve"]}
    row |= {"created_at": datetime.now(UTC), "chain_seq": size}
    database = connect(url)
    async with database.write_engine.begin() as conn:
        await conn.execute(workflows_t.insert(), [row])
    await database.dispose()


class LoadClock:
    """Seconds spent hashing and writing while loading, and rows written."""

    def __init__(self) -> None:
        self.hashing = 0.0
        self.writing = 0.0
        self.rows = 0

    def build(self, builder: TreeBuilder, lo: int, hi: int) -> list[Row]:
        started = time.perf_counter()
        rows = builder.add(leaf_hashes(lo, hi))
        self.hashing += time.perf_counter() - started
        self.rows += len(rows)
        return rows


async def load_postgres(dsn: str, size: int, builder: TreeBuilder, clock: LoadClock) -> float:
    """COPY every node into log_nodes, then VACUUM ANALYZE; returns the VACUUM's seconds."""
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        for lo, hi in chunks(size):
            rows = clock.build(builder, lo, hi)
            started = time.perf_counter()
            await conn.copy_records_to_table(
                "log_nodes",
                records=[(WORKFLOW, level, idx, value) for level, idx, value in rows],
                columns=["workflow_id", "level", "idx", "hash"],
            )
            clock.writing += time.perf_counter() - started
        started = time.perf_counter()
        await conn.execute("VACUUM ANALYZE log_nodes")
        return time.perf_counter() - started
    finally:
        await conn.close()


def load_sqlite(path: str, size: int, builder: TreeBuilder, clock: LoadClock) -> float:
    """executemany every node into log_nodes, 16 chunks (~2M rows) per transaction,
    then ANALYZE; returns the ANALYZE's seconds."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous=OFF")
        insert = "INSERT INTO log_nodes (workflow_id, level, idx, hash) VALUES (?, ?, ?, ?)"
        for number, (lo, hi) in enumerate(chunks(size)):
            rows = clock.build(builder, lo, hi)
            started = time.perf_counter()
            if number % 16 == 0:
                conn.execute("BEGIN")
            conn.executemany(insert, [(WORKFLOW, level, idx, value) for level, idx, value in rows])
            if number % 16 == 15 or hi == size:
                conn.execute("COMMIT")
            clock.writing += time.perf_counter() - started
        started = time.perf_counter()
        conn.execute("ANALYZE")
        return time.perf_counter() - started
    finally:
        conn.close()


@contextlib.asynccontextmanager
async def loaded(backend: str, size: int) -> AsyncIterator[tuple[str, TreeBuilder, dict]]:
    """A migrated scratch database holding the tree of `size` leaves; yields its URL, the
    builder (its kept nodes) and the load's figures. Dropped (or deleted) at the end."""
    from api.cli import migrate

    async with _scratch(backend) as url:
        started = time.perf_counter()
        await asyncio.to_thread(migrate, url)
        await _insert_workflow(url, size)
        builder, clock = TreeBuilder(), LoadClock()
        if backend == "postgresql":
            dsn = f"{POSTGRES_ADMIN_URL}/{url.rsplit('/', 1)[1]}"
            finishing = await load_postgres(dsn, size, builder, clock)
        else:
            path = url.split(":///", 1)[1]
            finishing = await asyncio.to_thread(load_sqlite, path, size, builder, clock)
        figures = {
            "rows": clock.rows,
            "seconds": round(time.perf_counter() - started, 1),
            "hashing_seconds": round(clock.hashing, 1),
            "writing_seconds": round(clock.writing, 1),
            "analyze_seconds": round(finishing, 1),
            "database_bytes": await _database_bytes(backend, url),
        }
        yield url, builder, figures


@contextlib.asynccontextmanager
async def _scratch(backend: str) -> AsyncIterator[str]:
    if backend == "postgresql":
        async with scratch_postgres("arbiter_bench_proofs") as url:
            yield url
        return
    with tempfile.TemporaryDirectory(prefix="arbiter-bench-proofs-") as directory:
        yield f"sqlite+aiosqlite:///{directory}/proofs.db"


async def _database_bytes(backend: str, url: str) -> int:
    if backend == "sqlite":
        path = Path(url.split(":///", 1)[1])
        return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    import asyncpg

    conn = await asyncpg.connect(f"{POSTGRES_ADMIN_URL}/{url.rsplit('/', 1)[1]}")
    try:
        return int(await conn.fetchval("SELECT pg_total_relation_size('log_nodes')"))
    finally:
        await conn.close()


# ---------------------------------------------------------------- measuring


class StatementCounter:
    """Counts the SQL statements an engine sends (BEGIN included), and those on log_nodes."""

    def __init__(self) -> None:
        self.statements = 0
        self.node_reads = 0

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.statements += 1
        self.node_reads += "log_nodes" in statement


class Timings:
    """Per kind: each call's milliseconds, statements and node reads; proofs verified."""

    def __init__(self) -> None:
        self.ms: dict[str, list[float]] = collections.defaultdict(list)
        self.statements: dict[str, collections.Counter[int]] = collections.defaultdict(
            collections.Counter
        )
        self.node_statements: dict[str, collections.Counter[int]] = collections.defaultdict(
            collections.Counter
        )
        self.hashes: dict[str, list[int]] = collections.defaultdict(list)
        self.verified: collections.Counter[str] = collections.Counter()

    async def time(self, kind: str, counter: StatementCounter, call: Awaitable[Any]) -> Any:
        """Await `call` (a coroutine not yet started), timed and its statements counted."""
        statements, node_reads = counter.statements, counter.node_reads
        started = time.perf_counter()
        result = await call
        self.ms[kind].append((time.perf_counter() - started) * 1000)
        self.statements[kind][counter.statements - statements] += 1
        self.node_statements[kind][counter.node_reads - node_reads] += 1
        return result


async def measure(url: str, builder: TreeBuilder, proofs: int, seed: int) -> dict[str, Any]:
    """The interleaved rounds over LogReads (see the module's docstring)."""
    import sqlalchemy as sa
    from sqlalchemy import event

    from store.database import connect
    from store.log_reads import LogReads
    from store.tables import log_nodes_t

    size, rng = builder.size, random.Random(seed)
    full_root = builder.root(size)
    database = connect(url)
    engine = database.request_engine or database.read_engine
    counter, timings = StatementCounter(), Timings()
    event.listen(engine.sync_engine, "before_cursor_execute", counter)
    c = log_nodes_t.c
    try:
        async with database.request_sessions()() as session:
            reads = LogReads(session)
            if await reads.root(WORKFLOW, size) != full_root:
                raise AssertionError("the stored root differs from the one computed in memory")
            for _ in range(20):  # warm the pool, the statement caches and the buffers
                await reads.inclusion_proof(WORKFLOW, rng.randrange(size), size)
            for number in range(proofs):
                check = number % VERIFY_EVERY == 0
                tree = rng.randint(1, size)
                leaf = rng.randrange(tree)
                path = await timings.time(
                    KINDS[0], counter, reads.inclusion_proof(WORKFLOW, leaf, tree)
                )
                if check:
                    _verify_inclusion(leaf, tree, path, builder.root(tree))
                    timings.verified[KINDS[0]] += 1
                full_leaf = rng.randrange(size)
                path = await timings.time(
                    KINDS[1], counter, reads.inclusion_proof(WORKFLOW, full_leaf, size)
                )
                if check:
                    _verify_inclusion(full_leaf, size, path, full_root)
                    timings.verified[KINDS[1]] += 1
                old, new = sorted((rng.randint(1, size), rng.randint(1, size)))
                proof = await timings.time(
                    KINDS[2], counter, reads.consistency_proof(WORKFLOW, old, new)
                )
                if check:
                    old_root, new_root = builder.root(old), builder.root(new)
                    if not merkle.verify_consistency(old, new, old_root, new_root, proof):
                        raise AssertionError(f"consistency proof {old} -> {new} does not verify")
                    timings.verified[KINDS[2]] += 1
                point = rng.randrange(size)
                select = sa.select(c.hash).where(
                    c.workflow_id == WORKFLOW, c.level == 0, c.idx == point
                )
                result = await timings.time(KINDS[3], counter, session.execute(select))
                if check and bytes(result.scalar_one()) != leaf_hashes(point, point + 1)[0]:
                    raise AssertionError(f"leaf {point} read back differs")
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", counter)
        await database.dispose()
    return _figures(timings)


def _verify_inclusion(leaf: int, tree: int, path: list[bytes], root: bytes) -> None:
    if not merkle.verify_inclusion(leaf_hashes(leaf, leaf + 1)[0], leaf, tree, path, root):
        raise AssertionError(f"inclusion proof of leaf {leaf} at size {tree} does not verify")


def _figures(timings: Timings) -> dict[str, Any]:
    kinds: dict[str, Any] = {}
    for kind in KINDS:
        stats = summary(timings.ms[kind])
        kinds[kind] = {
            "count": len(timings.ms[kind]),
            **{f"{k}_ms": round(v, 3) for k, v in stats.items()},
            "statements": {str(k): v for k, v in sorted(timings.statements[kind].items())},
            "log_nodes_statements": {
                str(k): v for k, v in sorted(timings.node_statements[kind].items())
            },
            "verified": timings.verified[kind],
        }
    floor = kinds["point_select"]["p99_ms"]
    for kind in KINDS[:3]:
        kinds[kind]["p99_over_point_select_p99"] = round(kinds[kind]["p99_ms"] / floor, 2)
        kinds[kind]["target_ms"] = TARGET_MS
        kinds[kind]["met"] = kinds[kind]["p99_ms"] < TARGET_MS
    return kinds


def nodes_per_proof(size: int, samples: int, seed: int) -> dict[str, float]:
    """How many stored nodes the proofs read (from domain.merkle, no database)."""
    rng = random.Random(seed)
    inclusion, consistency = [], []
    for _ in range(samples):
        tree = rng.randint(1, size)
        entries = merkle.inclusion_proof_nodes(rng.randrange(tree), tree)
        inclusion.append(len({node for entry in entries for node in entry}))
        old, new = sorted((rng.randint(1, size), rng.randint(1, size)))
        entries = merkle.consistency_proof_nodes(old, new)
        consistency.append(len({node for entry in entries for node in entry}))
    return {
        "inclusion_mean": round(sum(inclusion) / samples, 1),
        "inclusion_max": max(inclusion),
        "consistency_mean": round(sum(consistency) / samples, 1),
        "consistency_max": max(consistency),
        "bound_2_log2_n": 2 * (size.bit_length() - 1),
    }


async def run_backend(backend: str, size: int, proofs: int, seed: int) -> dict[str, Any]:
    load_avg = machine_info()["loadavg_at_start"]
    async with loaded(backend, size) as (url, builder, load):
        print(f"{backend}: loaded {load['rows']:,} nodes in {load['seconds']} s", flush=True)
        kinds = await measure(url, builder, proofs, seed)
    return {
        "backend": backend,
        "size": size,
        "proofs_per_kind": proofs,
        "loadavg_at_start": load_avg,
        "load": load,
        "nodes_per_proof": nodes_per_proof(size, 2000, seed),
        "kinds": kinds,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=10_000_000, help="leaves in the tree")
    parser.add_argument("--backends", default="postgresql,sqlite")
    parser.add_argument("--proofs", type=int, default=500, help="proofs of each kind")
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if args.size < 2 or args.proofs < 1 or not set(backends) <= {"postgresql", "sqlite"}:
        parser.error("--size >= 2, --proofs >= 1, --backends from postgresql,sqlite")
    started = time.perf_counter()
    check_builder(3 * 256 + 77, chunk_level=8)
    check_builder((2 << CHUNK_LEVEL) + 4_321, chunk_level=CHUNK_LEVEL)
    print(f"TreeBuilder agrees with append_leaves ({time.perf_counter() - started:.1f} s)")
    runs = {}
    for backend in backends:
        runs[backend] = asyncio.run(run_backend(backend, args.size, args.proofs, args.seed))
        runs[backend]["command"] = _command(argv)
        print(json.dumps(runs[backend]["kinds"], indent=1), flush=True)
    path = RESULTS / "log_proofs.json"
    previous = json.loads(path.read_text()).get("runs", {}) if path.exists() else {}
    path = save_result(
        "log_proofs",
        {"machine": machine_info(), "runs": {**previous, **runs}},
    )
    print(f"wrote {path}")
    return 0


def _command(argv: list[str] | None) -> str:
    return " ".join(
        [".venv/bin/python bench/log_proofs.py", *(sys.argv[1:] if argv is None else argv)]
    )


if __name__ == "__main__":
    raise SystemExit(main())
