"""Benchmark: retraining end to end against raw LightGBM on the same data.

For each size N, labelled decisions come from ml.worlds.generate_world(N, seed)
(humans' labels = true_action, proposals = upstream_action). Two measurements,
each in its own subprocess so that peak memory (ru_maxrss) is its own:

  end to end  ml.classifier.train_classifier(examples): order by time, flatten
              and featurise the payloads, infer the spec, split, build the
              LightGBM datasets, train with early stopping on the validation
              slice, calibrate, evaluate on the holdout.
  raw         lightgbm.Dataset + lightgbm.train on the training slice's arrays
              (exactly the matrix and labels the end-to-end run trained on, saved by
              it as they are: float64, column-major), with the same parameters and
              the number of rounds the end-to-end run actually boosted (best
              iteration + patience), no validation set.

Generating the world and loading the arrays are not timed: the inputs (about 1.5 GB of
payload dicts at 1M) are in memory before the clock starts, and count in the peak. The
peak is reset after that setup (Linux), so it is the timed call's; "above inputs" is
peak minus the resident size when the clock started. (Before the reset existed, the
world's generation could set the peak.)

  from the database  (--db-sizes, 100k by default) what the RETRAIN job does: the
              decisions are in a SQLite decision log (built untimed, in its own
              process); timed: stream the labelled rows in batches
              (workers.retrain.stream_training_set), featurise each batch while the
              next is read, train as above. Against raw LightGBM on the arrays it
              trained on, and beside it the job's former path (all rows, then all
              examples, then training: "all rows first").

The raw run also checks that its first best_iteration trees predict what the stored
model does. The machine may be shared, so each pair is run --repeat times, interleaved;
"ratio" compares the best time of each side, "median_ratio" is the median of the pairs'
ratios (all times are kept in the JSON).

    .venv/bin/python bench/retrain.py [--sizes 100000 1000000] [--db-sizes 100000]
        [--repeat 2] [--db-repeat N] [--rule young_healthcare] [--threads 2]
        [--timeout 1800]

Results: a table on stdout and bench/results/retrain.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "retrain.json"
sys.path.insert(0, str(ROOT))


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


def worker_end_to_end(size: int, seed: int, rule: str, threads: int, workdir: Path) -> dict:
    import gc

    import numpy as np

    from ml.classifier import prepare, train_classifier
    from ml.worlds import generate_world, training_examples

    examples = training_examples(generate_world(size, seed, rule))
    gc.collect()
    peak_reset = _reset_peak()
    rss_before = _rss_mb()
    marks: list[tuple[float, float]] = []
    cpu = _cpu_seconds()
    start = time.perf_counter()

    def progress(fraction: float, message: str) -> None:
        marks.append((time.perf_counter() - start, fraction))

    trained = train_classifier(examples, seed=seed, num_threads=threads, progress=progress)
    elapsed = time.perf_counter() - start
    cpu = _cpu_seconds() - cpu
    peak = _maxrss_mb()

    def at(fraction: float) -> float:
        return next(t for t, f in marks if f >= fraction)

    # Untimed: the arrays the booster was fitted on, for the raw run.
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
    return {
        "seconds": elapsed,
        "cpu_seconds": cpu,
        "phases": {
            "featurise": at(0.1),
            "train": at(0.8) - at(0.1),
            "calibrate_evaluate": elapsed - at(0.8),
        },
        "rss_before_mb": rss_before,
        "peak_rss_mb": peak,
        "peak_reset": peak_reset,
        "rounds": trained.rounds_run,
        "best_iteration": trained.best_iteration,
        "split": trained.split,
        "features": len(trained.spec.features),
        "accuracy": trained.metrics.accuracy,
        "baseline_accuracy": trained.metrics.baseline_accuracy,
        "calibration_error": trained.metrics.calibration_error,
    }


DB_WORKFLOW = "wf_bench"
DB_ACTIONS = ["approve", "decline"]


def setup_database(size: int, seed: int, rule: str, workdir: Path) -> dict:
    """Untimed: a SQLite database (migrated to the newest schema) whose decision log holds
    the world's human decisions: APPROVE where the human agreed with the proposal, OVERRIDE
    to the human's action otherwise, one decision per item, decided at created_at."""
    import sqlalchemy as sa

    from api.cli import migrate
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
                        "tier": "ANALYST",
                        "status": "DECIDED",
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
                        "verdict": "APPROVE" if agreed else "OVERRIDE",
                        "automated": False,
                        "proposed_action": c.upstream_action,
                        "final_action": c.true_action,
                        "confidence": c.upstream_confidence,
                        "tier": "ANALYST",
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


async def _from_database(workdir: Path, threads: int, seed: int, streaming: bool) -> Any:
    """What the RETRAIN job does with a read session: stream the labelled decisions into a
    TrainingSet (`workers.retrain.stream_training_set`) and train on it; or, streaming
    False, the job's former way: all rows, then all TrainingExamples, then training."""
    import asyncio

    from domain.learning import label_for
    from ml.classifier import TrainingExample, train_classifier
    from store.database import connect
    from store.learning import LearningReadModel
    from workers.retrain import stream_training_set

    database = connect(f"sqlite+aiosqlite:///{workdir / 'decisions.db'}")  # as the job does
    try:
        async with database.read_sessions()() as session:
            if streaming:
                data: Any = await stream_training_set(session, DB_WORKFLOW, DB_ACTIONS)
            else:
                from domain.enums import Verdict

                rows = await LearningReadModel(session).learning_rows(DB_WORKFLOW)
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
    finally:
        await database.write_engine.dispose()
        await database.read_engine.dispose()


def worker_database(workdir: Path, threads: int, seed: int, streaming: bool) -> dict:
    import asyncio
    import gc

    import numpy as np

    from ml.classifier import TrainingSet, prepare

    gc.collect()
    peak_reset = _reset_peak()
    rss_before = _rss_mb()
    cpu = _cpu_seconds()
    start = time.perf_counter()
    trained = asyncio.run(_from_database(workdir, threads, seed, streaming))
    elapsed = time.perf_counter() - start
    cpu = _cpu_seconds() - cpu
    peak = _maxrss_mb()
    if streaming:  # untimed: the arrays the booster was fitted on, for the raw run
        from store.database import connect
        from workers.retrain import stream_training_set

        async def load() -> TrainingSet:
            database = connect(f"sqlite+aiosqlite:///{workdir / 'decisions.db'}")
            async with database.read_sessions()() as session:
                training = await stream_training_set(session, DB_WORKFLOW, DB_ACTIONS)
            await database.write_engine.dispose()
            await database.read_engine.dispose()
            return training

        data = prepare(asyncio.run(load()))
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
    return {
        "seconds": elapsed,
        "cpu_seconds": cpu,
        "rss_before_mb": rss_before,
        "peak_rss_mb": peak,
        "peak_reset": peak_reset,
        "rounds": trained.rounds_run,
        "best_iteration": trained.best_iteration,
        "split": trained.split,
        "features": len(trained.spec.features),
        "accuracy": trained.metrics.accuracy,
        "baseline_accuracy": trained.metrics.baseline_accuracy,
        "calibration_error": trained.metrics.calibration_error,
    }


def worker_raw(workdir: Path) -> dict:
    import gc

    import lightgbm as lgb
    import numpy as np

    X = np.load(workdir / "X.npy")
    y = np.load(workdir / "y.npy")
    meta = json.loads((workdir / "meta.json").read_text())
    gc.collect()
    peak_reset = _reset_peak()
    rss_before = _rss_mb()
    cpu = _cpu_seconds()
    start = time.perf_counter()
    dataset = lgb.Dataset(
        X, label=y, feature_name=meta["names"], categorical_feature=meta["categorical"]
    )
    booster = lgb.train(meta["params"], dataset, num_boost_round=meta["rounds"])
    elapsed = time.perf_counter() - start
    cpu = _cpu_seconds() - cpu
    peak = _maxrss_mb()
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
        "seconds": elapsed,
        "cpu_seconds": cpu,
        "rss_before_mb": rss_before,
        "peak_rss_mb": peak,
        "peak_reset": peak_reset,
        "rounds": booster.current_iteration(),
        "same_trees_as_end_to_end": same,
    }


TARGET = "end to end <= 2x raw"


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _medians(e2e_runs: list[dict], raw_runs: list[dict]) -> dict[str, float]:
    """Medians over the repeats: of each side's seconds and of the ratio of each pair (the
    two runs of a pair ran one after the other, under much the same load)."""
    return {
        "median_end_to_end_seconds": _median([r["seconds"] for r in e2e_runs]),
        "median_raw_seconds": _median([r["seconds"] for r in raw_runs]),
        "median_ratio": _median(
            [e["seconds"] / r["seconds"] for e, r in zip(e2e_runs, raw_runs, strict=True)]
        ),
    }


def _above(runs: list[dict]) -> float:
    return max(r["peak_rss_mb"] - r["rss_before_mb"] for r in runs)


def _database_row(size: int, args: argparse.Namespace, runs: list[dict]) -> dict:
    """End to end from the decision log in SQLite (the job's path: stream the rows,
    featurise them batch by batch, train), against raw LightGBM on the arrays it trained
    on; beside it, the job's former path (all rows, then all examples, then training)."""
    db_runs, raw_runs, old_runs = [], [], []
    with tempfile.TemporaryDirectory(prefix="arbiter-bench-db-") as tmp:
        common = ["--size", str(size), "--workdir", tmp, "--seed", str(args.seed)]
        setup = _run_worker(["--worker", "db_setup", *common, "--rule", args.rule], args.timeout)
        threads = ["--threads", str(args.threads)]
        for _ in range(args.db_repeat or args.repeat):
            db = _run_worker(["--worker", "db", *common, *threads], args.timeout)
            raw = _run_worker(["--worker", "raw", *common], args.timeout)
            old = _run_worker(["--worker", "db_materialised", *common, *threads], args.timeout)
            db_runs.append(db)
            raw_runs.append(raw)
            old_runs.append(old)
            print(
                f"  n={size} from SQLite: streamed {db['seconds']:.2f} s, "
                f"raw {raw['seconds']:.2f} s, all rows first {old['seconds']:.2f} s "
                f"(load average {os.getloadavg()[0]:.2f})",
                file=sys.stderr,
            )
    runs.append(
        {
            "size": size,
            "source": "database",
            "setup": setup,
            "end_to_end": db_runs,
            "raw": raw_runs,
            "all_rows_first": old_runs,
        }
    )
    best_db = min(db_runs, key=lambda r: r["seconds"])
    best_raw = min(raw_runs, key=lambda r: r["seconds"])
    best_old = min(old_runs, key=lambda r: r["seconds"])
    return {
        "size": size,
        "source": "database",
        "target": TARGET,
        "end_to_end_seconds": best_db["seconds"],
        "raw_seconds": best_raw["seconds"],
        "ratio": best_db["seconds"] / best_raw["seconds"],
        **_medians(db_runs, raw_runs),
        "end_to_end_cpu_seconds": min(r["cpu_seconds"] for r in db_runs),
        "raw_cpu_seconds": min(r["cpu_seconds"] for r in raw_runs),
        "end_to_end_peak_rss_mb": max(r["peak_rss_mb"] for r in db_runs),
        "end_to_end_peak_above_inputs_mb": _above(db_runs),
        "raw_peak_above_inputs_mb": _above(raw_runs),
        "end_to_end_rss_before_mb": best_db["rss_before_mb"],
        "raw_peak_rss_mb": max(r["peak_rss_mb"] for r in raw_runs),
        "raw_rss_before_mb": best_raw["rss_before_mb"],
        "all_rows_first_seconds": best_old["seconds"],
        "median_all_rows_first_seconds": _median([r["seconds"] for r in old_runs]),
        "all_rows_first_peak_rss_mb": max(r["peak_rss_mb"] for r in old_runs),
        "rounds": best_db["rounds"],
        "best_iteration": best_db["best_iteration"],
        "split": best_db["split"],
        "accuracy": best_db["accuracy"],
        "baseline_accuracy": best_db["baseline_accuracy"],
        "calibration_error": best_db["calibration_error"],
        "same_model_as_all_rows_first": all(
            r["accuracy"] == best_db["accuracy"] and r["rounds"] == best_db["rounds"]
            for r in old_runs + db_runs
        ),
        "same_trees": all(r["same_trees_as_end_to_end"] for r in raw_runs),
    }


def _run_worker(args: list[str], timeout: float) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _versions() -> dict[str, str]:
    import lightgbm
    import numpy
    import sklearn

    return {
        "python": platform.python_version(),
        "lightgbm": lightgbm.__version__,
        "numpy": numpy.__version__,
        "scikit-learn": sklearn.__version__,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--rule", default="young_healthcare")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=1800.0, help="per subprocess, seconds")
    parser.add_argument(
        "--db-sizes",
        type=int,
        nargs="*",
        default=[100_000],
        help="sizes for the 'from the database' rows (SQLite); none to skip them",
    )
    parser.add_argument(
        "--db-repeat", type=int, help="repeats for the database rows (default: --repeat)"
    )
    parser.add_argument(
        "--worker",
        choices=["e2e", "raw", "db_setup", "db", "db_materialised"],
        help=argparse.SUPPRESS,
    )
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker == "e2e":
        result = worker_end_to_end(args.size, args.seed, args.rule, args.threads, args.workdir)
        print(json.dumps(result))
        return 0
    if args.worker == "raw":
        print(json.dumps(worker_raw(args.workdir)))
        return 0
    if args.worker == "db_setup":
        print(json.dumps(setup_database(args.size, args.seed, args.rule, args.workdir)))
        return 0
    if args.worker in ("db", "db_materialised"):
        streaming = args.worker == "db"
        print(json.dumps(worker_database(args.workdir, args.threads, args.seed, streaming)))
        return 0

    summary = []
    runs = []
    started = time.perf_counter()
    for size in args.sizes:
        e2e_runs, raw_runs = [], []
        with tempfile.TemporaryDirectory(prefix="arbiter-bench-") as tmp:
            common = ["--size", str(size), "--workdir", tmp, "--seed", str(args.seed)]
            for _ in range(args.repeat):
                e2e = _run_worker(
                    [
                        "--worker",
                        "e2e",
                        *common,
                        "--rule",
                        args.rule,
                        "--threads",
                        str(args.threads),
                    ],
                    args.timeout,
                )
                raw = _run_worker(["--worker", "raw", *common], args.timeout)
                e2e_runs.append(e2e)
                raw_runs.append(raw)
                print(
                    f"  n={size}: end to end {e2e['seconds']:.2f} s, raw {raw['seconds']:.2f} s "
                    f"(load average {os.getloadavg()[0]:.2f})",
                    file=sys.stderr,
                )
        best_e2e = min(e2e_runs, key=lambda r: r["seconds"])
        best_raw = min(raw_runs, key=lambda r: r["seconds"])
        runs.append({"size": size, "source": "memory", "end_to_end": e2e_runs, "raw": raw_runs})
        summary.append(
            {
                "size": size,
                "source": "memory",
                "target": TARGET,
                "end_to_end_seconds": best_e2e["seconds"],
                "raw_seconds": best_raw["seconds"],
                "ratio": best_e2e["seconds"] / best_raw["seconds"],
                **_medians(e2e_runs, raw_runs),
                "end_to_end_cpu_seconds": min(r["cpu_seconds"] for r in e2e_runs),
                "raw_cpu_seconds": min(r["cpu_seconds"] for r in raw_runs),
                "phases": best_e2e["phases"],
                "end_to_end_peak_rss_mb": max(r["peak_rss_mb"] for r in e2e_runs),
                "end_to_end_peak_above_inputs_mb": _above(e2e_runs),
                "raw_peak_above_inputs_mb": _above(raw_runs),
                "end_to_end_rss_before_mb": best_e2e["rss_before_mb"],
                "raw_peak_rss_mb": max(r["peak_rss_mb"] for r in raw_runs),
                "raw_rss_before_mb": best_raw["rss_before_mb"],
                "rounds": best_e2e["rounds"],
                "best_iteration": best_e2e["best_iteration"],
                "split": best_e2e["split"],
                "accuracy": best_e2e["accuracy"],
                "baseline_accuracy": best_e2e["baseline_accuracy"],
                "calibration_error": best_e2e["calibration_error"],
                "same_trees": all(r["same_trees_as_end_to_end"] for r in raw_runs),
            }
        )
    for size in args.db_sizes:
        summary.append(_database_row(size, args, runs))

    report: dict[str, Any] = {
        "benchmark": "retrain",
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), **_versions()},
        "settings": {
            "rule": args.rule,
            "seed": args.seed,
            "threads": args.threads,
            "repeat": args.repeat,
            "db_sizes": args.db_sizes,
            "db_repeat": args.db_repeat or args.repeat,
        },
        "target": TARGET,
        "summary": summary,
        "runs": runs,
        "total_seconds": time.perf_counter() - started,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")

    header = (
        f"{'decisions':>10} {'source':>8} {'end to end':>11} {'raw lgbm':>9} {'ratio':>6} "
        f"{'median':>7} {'cpu ratio':>9} "
        f"{'featurise':>10} {'train':>7} {'cal+eval':>9} {'rounds':>7} "
        f"{'peak MB e2e':>12} {'(inputs)':>9} {'peak MB raw':>12} {'(inputs)':>9}"
    )
    print(header)
    print("-" * len(header))
    for s in summary:
        p = s.get("phases")
        phases = (
            f"{p['featurise']:>9.2f}s {p['train']:>6.2f}s {p['calibrate_evaluate']:>8.2f}s"
            if p
            else f"{'(streamed from the database)':>28}"
        )
        cpu_ratio = s["end_to_end_cpu_seconds"] / s["raw_cpu_seconds"]
        print(
            f"{s['size']:>10,} {s['source']:>8} {s['end_to_end_seconds']:>10.2f}s "
            f"{s['raw_seconds']:>8.2f}s {s['ratio']:>5.2f}x {s['median_ratio']:>6.2f}x "
            f"{cpu_ratio:>8.2f}x {phases} {s['rounds']:>7} "
            f"{s['end_to_end_peak_rss_mb']:>12.0f} {s['end_to_end_rss_before_mb']:>9.0f} "
            f"{s['raw_peak_rss_mb']:>12.0f} {s['raw_rss_before_mb']:>9.0f}"
        )
        if s["source"] == "database":
            print(
                f"{'':>10} {'':>8} all rows first (the job's former path): "
                f"{s['all_rows_first_seconds']:.2f} s, "
                f"peak {s['all_rows_first_peak_rss_mb']:.0f} MB"
            )
    print(
        f"target: {report['target']} (wall clock); ratio: best of {args.repeat} per side, "
        f"median: of the {args.repeat} side-by-side pairs; cpu ratio = process CPU seconds, "
        f"less sensitive to a shared machine; {RESULTS}"
    )
    for s in summary:
        if not s["same_trees"]:
            print(f"warning: raw trees differ from the end-to-end model at n={s['size']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
