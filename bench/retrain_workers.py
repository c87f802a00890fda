"""The measured runs of bench/retrain.py, each in a process of its own (`--worker`), so
that the peak resident memory (ru_maxrss) of a run is its own.

  end to end        ml.classifier.train_classifier on a generated world's examples
  from the database the RETRAIN job's path from a SQLite decision log (streamed), or
                    its former path (all rows first)
  raw               lightgbm.Dataset + lightgbm.train on the arrays the end-to-end run
                    saved, with its parameters and number of rounds

Each returns a JSON-able dict of its figures; bench/retrain.py compares them.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import resource
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _reset_peak() -> bool:
    """Reset the peak resident set size (Linux: "5" into /proc/self/clear_refs), so that
    ru_maxrss is the peak of what follows, not of the untimed setup (generating a world
    of 1M payloads peaks above the training itself). The inputs stay resident and count."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@dataclass
class Clock:
    """One timed call: wall and CPU seconds, and resident memory before it and at its peak."""

    peak_reset: bool
    rss_before_mb: float
    started: float
    cpu_started: float
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    peak_rss_mb: float = 0.0

    def times(self) -> dict[str, float]:
        return {"seconds": self.seconds, "cpu_seconds": self.cpu_seconds}

    def memory(self) -> dict[str, Any]:
        return {
            "rss_before_mb": self.rss_before_mb,
            "peak_rss_mb": self.peak_rss_mb,
            "peak_reset": self.peak_reset,
        }


@contextlib.contextmanager
def timed() -> Iterator[Clock]:
    """Collect garbage, reset the peak, then time what the block runs (the untimed setup
    stays before it, the untimed follow-up after it)."""
    gc.collect()
    peak_reset = _reset_peak()
    rss_before = _rss_mb()
    clock = Clock(peak_reset, rss_before, started=0.0, cpu_started=_cpu_seconds())
    clock.started = time.perf_counter()
    yield clock
    clock.seconds = time.perf_counter() - clock.started
    clock.cpu_seconds = _cpu_seconds() - clock.cpu_started
    clock.peak_rss_mb = _maxrss_mb()


def _model_figures(trained: Any) -> dict[str, Any]:
    """What a trained classifier came to: its rounds, split, features and metrics."""
    return {
        "rounds": trained.rounds_run,
        "best_iteration": trained.best_iteration,
        "split": trained.split,
        "features": len(trained.spec.features),
        "accuracy": trained.metrics.accuracy,
        "baseline_accuracy": trained.metrics.baseline_accuracy,
        "calibration_error": trained.metrics.calibration_error,
    }


def _save_for_raw(workdir: Path, examples: Any, trained: Any) -> None:
    """Untimed: the arrays the booster was fitted on, its model and parameters, for the
    raw run."""
    import numpy as np

    from ml.classifier import prepare

    data = prepare(examples)
    np.save(workdir / "X.npy", data.rows(data.train))  # as it is: column-major
    np.save(workdir / "y.npy", data.y[data.train])
    (workdir / "model.txt").write_text(trained.model_text)
    meta = {
        "params": trained.params,
        "rounds": trained.rounds_run,
        "best_iteration": trained.best_iteration,
        "categorical": data.spec.categorical_indices,
        "names": [f"f{i}" for i in range(len(data.spec.features))],
    }
    (workdir / "meta.json").write_text(json.dumps(meta))


def worker_end_to_end(size: int, seed: int, rule: str, threads: int, workdir: Path) -> dict:
    """Timed: `train_classifier` on a generated world of `size` examples (generated first,
    untimed); then, untimed, the arrays it trained on saved in `workdir` for the raw run."""
    from ml.classifier import train_classifier
    from ml.worlds import generate_world, training_examples

    examples = training_examples(generate_world(size, seed, rule))
    marks: list[tuple[float, float]] = []
    with timed() as clock:

        def progress(fraction: float, message: str) -> None:
            marks.append((time.perf_counter() - clock.started, fraction))

        trained = train_classifier(examples, seed=seed, num_threads=threads, progress=progress)

    def at(fraction: float) -> float:
        return next(t for t, f in marks if f >= fraction)

    _save_for_raw(workdir, examples, trained)
    return {
        **clock.times(),
        "phases": {
            "featurise": at(0.1),
            "train": at(0.8) - at(0.1),
            "calibrate_evaluate": clock.seconds - at(0.8),
        },
        **clock.memory(),
        **_model_figures(trained),
    }


DB_WORKFLOW = "wf_bench"
DB_ACTIONS = ["approve", "decline"]


def setup_database(size: int, seed: int, rule: str, workdir: Path) -> dict:
    """Untimed: a SQLite database (migrated to the newest schema) whose decision log holds
    the world's human decisions: APPROVE where the human agreed with the proposal, OVERRIDE
    to the human's action otherwise, one decision per item, decided at created_at."""
    import sqlalchemy as sa

    from api.cli import migrate
    from domain.enums import RecommendationStatus as Status
    from domain.enums import Tier, Verdict
    from ml.worlds import generate_world
    from store.tables import decisions_t, recs_t, workflows_t

    path = workdir / "decisions.db"
    migrate(f"sqlite+aiosqlite:///{path}")
    cases = generate_world(size, seed, rule)
    engine = sa.create_engine(f"sqlite:///{path}")
    start = cases[0].created_at
    with engine.begin() as conn:
        conn.execute(
            workflows_t.insert().values(
                id=DB_WORKFLOW,
                key="bench",
                name="Bench",
                kind="CLASSIFICATION",
                reviewer_role="EXPERT",
                actions=DB_ACTIONS,
                created_at=start,
                policy_version=1,
                chain_seq=size,
                chain_head="0" * 64,
            )
        )
        for lo in range(0, size, 10_000):
            recs, decisions = [], []
            for i in range(lo, min(size, lo + 10_000)):
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
                    }
                )
            conn.execute(recs_t.insert(), recs)
            conn.execute(decisions_t.insert(), decisions)
    engine.dispose()
    return {"rows": size, "bytes": path.stat().st_size}


@contextlib.asynccontextmanager
async def _decision_log(workdir: Path) -> AsyncIterator[Any]:
    """The SQLite decision log, connected as the job connects; disposed at the end."""
    from store.database import connect

    database = connect(f"sqlite+aiosqlite:///{workdir / 'decisions.db'}")
    try:
        yield database
    finally:
        await database.write_engine.dispose()
        await database.read_engine.dispose()


async def _from_database(workdir: Path, threads: int, seed: int, streaming: bool) -> Any:
    """What the RETRAIN job does with a read session: stream the labelled decisions into a
    TrainingSet (`workers.retrain.stream_training_set`) and train on it; or, streaming
    False, the job's former way: all rows, then all TrainingExamples, then training."""
    from domain.learning import label_for
    from ml.classifier import TrainingExample, train_classifier
    from store.learning import LearningReads
    from workers.retrain import stream_training_set

    async with _decision_log(workdir) as database:
        async with database.read_sessions()() as session:
            if streaming:
                data: Any = await stream_training_set(
                    LearningReads(session), DB_WORKFLOW, DB_ACTIONS
                )
            else:
                from domain.enums import Verdict

                rows = await LearningReads(session).learning_rows(DB_WORKFLOW)
                data = []
                for row in rows:
                    label = label_for(
                        Verdict(row.verdict), row.proposed_action, row.final_action, DB_ACTIONS
                    )
                    if label is not None:
                        data.append(
                            TrainingExample(
                                payload=dict(row.payload),
                                label=label,
                                decided_at=row.decided_at,
                                proposed_action=row.proposed_action,
                            )
                        )
                del rows
        return await asyncio.to_thread(train_classifier, data, seed=seed, num_threads=threads)


async def _streamed(workdir: Path) -> Any:
    """Untimed: the TrainingSet the job streams from the decision log."""
    from store.learning import LearningReads
    from workers.retrain import stream_training_set

    async with _decision_log(workdir) as database, database.read_sessions()() as session:
        return await stream_training_set(LearningReads(session), DB_WORKFLOW, DB_ACTIONS)


def worker_database(workdir: Path, threads: int, seed: int, streaming: bool) -> dict:
    """Timed: the RETRAIN job's training from the decision log in `workdir` (streamed, or
    all rows first); when streamed, the arrays it trained on saved for the raw run."""
    import numpy  # noqa: F401  # loaded before the clock starts, as in the job's process

    import ml.classifier  # noqa: F401

    with timed() as clock:
        trained = asyncio.run(_from_database(workdir, threads, seed, streaming))
    if streaming:
        _save_for_raw(workdir, asyncio.run(_streamed(workdir)), trained)
    return {**clock.times(), **clock.memory(), **_model_figures(trained)}


def worker_raw(workdir: Path) -> dict:
    """Timed: raw LightGBM on the arrays in `workdir` with the saved parameters and rounds;
    then whether its trees predict what the end-to-end model does."""
    import lightgbm as lgb
    import numpy as np

    X = np.load(workdir / "X.npy")
    y = np.load(workdir / "y.npy")
    meta = json.loads((workdir / "meta.json").read_text())
    with timed() as clock:
        dataset = lgb.Dataset(
            X, label=y, feature_name=meta["names"], categorical_feature=meta["categorical"]
        )
        booster = lgb.train(meta["params"], dataset, num_boost_round=meta["rounds"])
    stored = lgb.Booster(model_str=(workdir / "model.txt").read_text())
    sample = X[:2000]
    same = bool(
        np.allclose(
            booster.predict(sample, num_iteration=meta["best_iteration"]),
            stored.predict(sample),
            rtol=0,
            atol=1e-12,
        )
    )
    return {
        **clock.times(),
        **clock.memory(),
        "rounds": booster.current_iteration(),
        "same_trees_as_end_to_end": same,
    }
