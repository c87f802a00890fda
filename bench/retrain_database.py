"""The "from the database" runs of bench/retrain.py: a decision log in SQLite or
PostgreSQL (built untimed, `setup_database`), then the RETRAIN job's path on it, timed
(`worker_database`): stream the labelled rows in batches
(workers.retrain.stream_training_set), featurise each batch while the next is read, and
train (ml.classifier.train_classifier).

The database is given by its URL: a SQLite file in the run's scratch directory, or a
PostgreSQL database that bench/retrain.py creates for the run and drops after it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from bench.retrain_workers import model_figures, timed

DB_WORKFLOW = "wf_bench"
DB_ACTIONS = ["approve", "decline"]
BATCH = 5_000  # items inserted per statement batch


def _item_rows(cases: Any, lo: int, hi: int) -> tuple[list[dict], list[dict]]:
    """The recommendations and their one human decision each, for cases[lo:hi]: APPROVE
    where the human agreed with the proposal, OVERRIDE to the human's action otherwise,
    decided at created_at."""
    from domain.enums import RecommendationStatus as Status
    from domain.enums import Tier, Verdict

    recs, decisions = [], []
    for i in range(lo, hi):
        c = cases[i]
        agreed = c.true_action == c.upstream_action
        recs.append(
            {
                "id": f"rec{i}",
                "workflow_id": DB_WORKFLOW,
                "payload": c.payload,
                "proposed_action": c.upstream_action,
                "confidence": c.upstream_confidence,
                "explanation": [],
                "tier": Tier.ANALYST_REVIEW,
                "status": Status.APPROVED if agreed else Status.OVERRIDDEN,
                "sampled_for_audit": False,
                "version": 2,
                "flagged": False,
                "due_sort": c.created_at,
                "sla_breached": False,
                "final_action": c.true_action,
                "created_at": c.created_at,
                "decided_at": c.created_at,
                "policy_version": 1,
                "canary": False,
            }
        )
        decisions.append(
            {
                "id": f"dec{i}",
                "workflow_id": DB_WORKFLOW,
                "seq": i + 1,
                "recommendation_id": f"rec{i}",
                "verdict": Verdict.APPROVE if agreed else Verdict.OVERRIDE,
                "automated": False,
                "proposed_action": c.upstream_action,
                "final_action": c.true_action,
                "confidence": c.upstream_confidence,
                "tier": Tier.ANALYST_REVIEW,
                "policy_version": 1,
                "reason": None if agreed else (c.reason or "wrong"),
                "reason_tags": [],
                "created_at": c.created_at,
                "prev_hash": "0" * 64,
                "audit_hash": "0" * 64,
                "leaf": "",  # no Merkle tree: retraining reads records, not proofs
            }
        )
    return recs, decisions


async def _copy(conn: Any, table: str, rows: list[dict]) -> None:
    """rows into a PostgreSQL table by COPY (asyncpg): JSON values as their text, enumerated
    ones as their value."""
    from enum import Enum

    import orjson

    def value(v: Any) -> Any:
        if isinstance(v, dict | list):
            return orjson.dumps(v).decode()
        return v.value if isinstance(v, Enum) else v

    columns = list(rows[0])
    records = [tuple(value(row[c]) for c in columns) for row in rows]
    raw = await conn.get_raw_connection()
    await raw.driver_connection.copy_records_to_table(table, records=records, columns=columns)


async def _fill(url: str, size: int, seed: int, rule: str) -> None:
    from ml.worlds import generate_world
    from store.database import connect
    from store.tables import decisions_t, recs_t, workflows_t

    cases = generate_world(size, seed, rule)
    database = connect(url)
    try:
        async with database.write_engine.begin() as conn:
            await conn.execute(
                workflows_t.insert().values(
                    id=DB_WORKFLOW,
                    key="bench",
                    name="Bench",
                    kind="CLASSIFICATION",
                    reviewer_role="EXPERT",
                    actions=DB_ACTIONS,
                    created_at=cases[0].created_at,
                    policy_version=1,
                    chain_seq=size,
                    chain_head="0" * 64,
                )
            )
            for lo in range(0, size, BATCH):
                recs, decisions = _item_rows(cases, lo, min(size, lo + BATCH))
                if database.is_sqlite:
                    await conn.execute(recs_t.insert(), recs)
                    await conn.execute(decisions_t.insert(), decisions)
                else:  # COPY: a million rows in a minute rather than ten
                    await _copy(conn, "recommendations", recs)
                    await _copy(conn, "decisions", decisions)
        if not database.is_sqlite:
            async with database.write_engine.connect() as conn:
                autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await autocommit.exec_driver_sql("VACUUM ANALYZE")
    finally:
        await database.dispose()


def setup_database(url: str, size: int, seed: int, rule: str) -> dict:
    """Untimed: the database at `url` migrated to the newest schema, its decision log
    holding the world's human decisions (one per item)."""
    import time

    from api.cli import migrate

    started = time.perf_counter()
    migrate(url)
    asyncio.run(_fill(url, size, seed, rule))
    return {"rows": size, "seconds": time.perf_counter() - started}


async def _streamed(url: str) -> Any:
    """The TrainingSet the job streams from the decision log at `url`."""
    from store.database import connect
    from store.learning import LearningReads
    from workers.retrain import stream_training_set

    database = connect(url)
    try:
        async with database.read_sessions()() as session:
            return await stream_training_set(LearningReads(session), DB_WORKFLOW, DB_ACTIONS)
    finally:
        await database.dispose()


async def _from_database(url: str, threads: int, seed: int) -> Any:
    """What the RETRAIN job does with a read session: stream the labelled decisions into a
    TrainingSet and train on it (in a thread, as the job does)."""
    from ml.classifier import train_classifier

    data = await _streamed(url)
    return await asyncio.to_thread(train_classifier, data, seed=seed, num_threads=threads)


def worker_database(url: str, workdir: Path, threads: int, seed: int) -> dict:
    """Timed: the RETRAIN job's training from the decision log at `url`; then, untimed,
    the arrays it trained on saved in `workdir` for the raw run."""
    import numpy  # noqa: F401  # loaded before the clock starts, as in the job's process

    import ml.classifier  # noqa: F401
    from bench.retrain_raw import save_for_raw

    with timed() as clock:
        trained = asyncio.run(_from_database(url, threads, seed))
    save_for_raw(workdir, asyncio.run(_streamed(url)), trained, seed, threads)
    return {**clock.times(), **clock.memory(), **model_figures(trained)}
