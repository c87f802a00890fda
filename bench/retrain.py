"""Benchmark: retraining end to end against the same procedure run by LightGBM on the
same arrays.

For each size N, labelled decisions come from ml.worlds.generate_world(N, seed)
(humans' labels = true_action, proposals = upstream_action). Each measurement runs in
its own subprocess so that peak memory (ru_maxrss) is its own:

  end to end  ml.classifier.train_classifier(examples): order by time, flatten and
              featurise the payloads, infer the specs, split, tune (ml.tuning), fit
              the evaluated model and predict the holdout, refit the served model on
              every label, calibrate both, measure the holdout.
  raw         the LightGBM part of that procedure on exactly the arrays the end-to-end
              run trained on (saved by it, untimed): the same tuning (settings, folds,
              early stopping), the evaluated fit and its holdout predictions, the
              served refit, with the same parameters and rounds (bench/retrain_raw.py;
              the run checks that it chose the same and that its served trees predict
              what the stored model does). The ratio end to end / raw is what the
              store, the decoding, the featurising, the calibration and the metrics add.
  one fit     for continuity with the former baseline: the served refit alone
              (lgb.Dataset + lgb.train on every row for the served rounds), timed
              within the raw run.

Generating the world and loading the arrays are not timed: the inputs (about 1.5 GB of
payload dicts at 1M) are in memory before the clock starts, and count in the peak. The
peak is reset after that setup (Linux), so it is the timed call's; "above inputs" is
peak minus the resident size when the clock started.

  from the database  (--db-sizes, --db) what the RETRAIN job does: the decisions are in
              a decision log (built untimed, in its own process) in SQLite (a file) or
              PostgreSQL (postgresql+asyncpg://postgres@127.0.0.1:5432, a database of
              its own, arbiter_bench_retrain, created for the run and dropped after it);
              timed: stream the labelled rows in batches
              (workers.retrain.stream_training_set), featurise each batch while the
              next is read, train as above (bench/retrain_database.py).

The machine may be shared, so each pair is run --repeat times, interleaved; "ratio"
compares the best time of each side, "median_ratio" is the median of the pairs' ratios
(all times are kept in the JSON).

    .venv/bin/python bench/retrain.py [--sizes 100000 1000000] [--db-sizes 100000]
        [--db sqlite postgresql] [--repeat 2] [--db-repeat N] [--rule young_healthcare]
        [--threads 2] [--timeout 3600]

Results: a table on stdout and bench/results/retrain.json (--name for another). The
measured runs themselves (each a `--worker` subprocess of this script) are in
bench/retrain_workers.py, bench/retrain_database.py and bench/retrain_raw.py.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.retrain_database import setup_database, worker_database
from bench.retrain_raw import worker_raw
from bench.retrain_workers import worker_end_to_end

TARGET = "end to end <= 2x raw from memory at 100k, <= 3x raw from the database at 1M"
POSTGRES_DATABASE = "arbiter_bench_retrain"
QUALITY = (
    "rounds",
    "best_iteration",
    "split",
    "accuracy",
    "baseline_accuracy",
    "calibration_error",
)


def _medians(e2e_runs: list[dict], raw_runs: list[dict]) -> dict[str, float]:
    """Medians over the repeats: of each side's seconds and of the ratio of each pair (the
    two runs of a pair ran one after the other, under much the same load)."""
    return {
        "median_end_to_end_seconds": statistics.median([r["seconds"] for r in e2e_runs]),
        "median_raw_seconds": statistics.median([r["seconds"] for r in raw_runs]),
        "median_ratio": statistics.median(
            [e["seconds"] / r["seconds"] for e, r in zip(e2e_runs, raw_runs, strict=True)]
        ),
    }


def _above(runs: list[dict]) -> float:
    return max(r["peak_rss_mb"] - r["rss_before_mb"] for r in runs)


def _fastest(runs: list[dict]) -> dict:
    return min(runs, key=lambda r: r["seconds"])


def _times(size: int, source: str, e2e_runs: list[dict], raw_runs: list[dict]) -> dict:
    """A summary row's head: the best time of each side, their ratio, the medians, CPU."""
    best_e2e, best_raw = _fastest(e2e_runs), _fastest(raw_runs)
    return {
        "size": size,
        "source": source,
        "target": TARGET,
        "end_to_end_seconds": best_e2e["seconds"],
        "raw_seconds": best_raw["seconds"],
        "ratio": best_e2e["seconds"] / best_raw["seconds"],
        **_medians(e2e_runs, raw_runs),
        "end_to_end_cpu_seconds": min(r["cpu_seconds"] for r in e2e_runs),
        "raw_cpu_seconds": min(r["cpu_seconds"] for r in raw_runs),
        "one_fit_seconds": min(r["one_fit_seconds"] for r in raw_runs),
        "ratio_to_one_fit": best_e2e["seconds"] / min(r["one_fit_seconds"] for r in raw_runs),
        "same_choices": all(r["same_choices_as_end_to_end"] for r in raw_runs),
        "same_trees": all(r["same_trees_as_end_to_end"] for r in raw_runs),
    }


def _memory(e2e_runs: list[dict], raw_runs: list[dict]) -> dict:
    """A summary row's peaks of resident memory, and what each side held before its clock."""
    return {
        "end_to_end_peak_rss_mb": max(r["peak_rss_mb"] for r in e2e_runs),
        "end_to_end_peak_above_inputs_mb": _above(e2e_runs),
        "raw_peak_above_inputs_mb": _above(raw_runs),
        "end_to_end_rss_before_mb": _fastest(e2e_runs)["rss_before_mb"],
        "raw_peak_rss_mb": max(r["peak_rss_mb"] for r in raw_runs),
        "raw_rss_before_mb": _fastest(raw_runs)["rss_before_mb"],
    }


def _worker_options(size: int, workdir: str, args: argparse.Namespace) -> list[str]:
    return ["--size", str(size), "--workdir", workdir, "--seed", str(args.seed)]


def _memory_row(size: int, args: argparse.Namespace, runs: list[dict]) -> dict:
    """End to end from examples in memory against raw LightGBM on the arrays it trained on."""
    e2e_runs, raw_runs = [], []
    with tempfile.TemporaryDirectory(prefix="arbiter-bench-") as tmp:
        common = _worker_options(size, tmp, args)
        for _ in range(args.repeat):
            e2e = _run_worker(
                ["--worker", "e2e", *common, "--rule", args.rule, "--threads", str(args.threads)],
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
    runs.append({"size": size, "source": "memory", "end_to_end": e2e_runs, "raw": raw_runs})
    best_e2e = _fastest(e2e_runs)
    return {
        **_times(size, "memory", e2e_runs, raw_runs),
        "phases": best_e2e["phases"],
        **_memory(e2e_runs, raw_runs),
        **{name: best_e2e[name] for name in QUALITY},
    }


def _database_row(size: int, backend: str, args: argparse.Namespace, runs: list[dict]) -> dict:
    """End to end from the decision log in SQLite or PostgreSQL (the job's path: stream
    the rows, featurise them batch by batch, train), against the same procedure's
    LightGBM part on the arrays it trained on."""
    db_runs, raw_runs = [], []
    with (
        tempfile.TemporaryDirectory(prefix="arbiter-bench-db-") as tmp,
        _database(backend, Path(tmp)) as url,
    ):
        common = [*_worker_options(size, tmp, args), "--url", url]
        setup = _run_worker(["--worker", "db_setup", *common, "--rule", args.rule], args.timeout)
        threads = ["--threads", str(args.threads)]
        for _ in range(args.db_repeat or args.repeat):
            db = _run_worker(["--worker", "db", *common, *threads], args.timeout)
            raw = _run_worker(["--worker", "raw", *common], args.timeout)
            db_runs.append(db)
            raw_runs.append(raw)
            print(
                f"  n={size} from {backend}: {db['seconds']:.2f} s, raw {raw['seconds']:.2f} s, "
                f"one fit {raw['one_fit_seconds']:.2f} s "
                f"(load average {os.getloadavg()[0]:.2f})",
                file=sys.stderr,
            )
    runs.append(
        {"size": size, "source": backend, "setup": setup, "end_to_end": db_runs, "raw": raw_runs}
    )
    best_db = _fastest(db_runs)
    return {
        **_times(size, backend, db_runs, raw_runs),
        **_memory(db_runs, raw_runs),
        **{name: best_db[name] for name in QUALITY},
    }


@contextlib.contextmanager
def _database(backend: str, workdir: Path) -> Iterator[str]:
    """The URL of an empty database for one size: a SQLite file in `workdir`, or a
    PostgreSQL database of the benchmark's own, dropped at the end."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{workdir / 'decisions.db'}"
        return
    from bench.common import drop_database, postgres_url, recreate_database

    asyncio.run(recreate_database(POSTGRES_DATABASE))
    try:
        yield postgres_url(POSTGRES_DATABASE)
    finally:
        asyncio.run(drop_database(POSTGRES_DATABASE))


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
    parser.add_argument("--sizes", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--rule", default="young_healthcare")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=3600.0, help="per subprocess, seconds")
    parser.add_argument(
        "--db-sizes",
        type=int,
        nargs="*",
        default=[100_000],
        help="sizes for the 'from the database' rows; none to skip them",
    )
    parser.add_argument(
        "--db",
        nargs="+",
        choices=["sqlite", "postgresql"],
        default=["sqlite", "postgresql"],
        help="the databases the 'from the database' rows are measured on",
    )
    parser.add_argument(
        "--db-repeat", type=int, help="repeats for the database rows (default: --repeat)"
    )
    parser.add_argument(
        "--name", default="retrain", help="the results file: bench/results/NAME.json"
    )
    parser.add_argument(
        "--worker", choices=["e2e", "raw", "db_setup", "db"], help=argparse.SUPPRESS
    )
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker is not None:
        print(json.dumps(_worker(args)))
        return 0

    from bench.common import save_result  # here: the workers' processes stay without httpx

    runs: list[dict] = []
    started = time.perf_counter()
    summary = [_memory_row(size, args, runs) for size in args.sizes]
    summary += [
        _database_row(size, backend, args, runs) for size in args.db_sizes for backend in args.db
    ]

    report: dict[str, Any] = {
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), **_versions()},
        "settings": {
            "rule": args.rule,
            "seed": args.seed,
            "threads": args.threads,
            "repeat": args.repeat,
            "db_sizes": args.db_sizes,
            "db": args.db,
            "db_repeat": args.db_repeat or args.repeat,
        },
        "target": TARGET,
        "summary": summary,
        "runs": runs,
        "total_seconds": time.perf_counter() - started,
    }
    results = save_result(args.name, report, stamp="created_at")
    _print_table(summary, args.repeat, results)
    return 0


def _worker(args: argparse.Namespace) -> dict:
    """One measured run, in this subprocess (see bench/retrain_workers.py)."""
    if args.worker == "e2e":
        return worker_end_to_end(args.size, args.seed, args.rule, args.threads, args.workdir)
    if args.worker == "raw":
        return worker_raw(args.workdir)
    if args.worker == "db_setup":
        return setup_database(args.url, args.size, args.seed, args.rule)
    return worker_database(args.url, args.workdir, args.threads, args.seed)


def _print_table(summary: list[dict], repeat: int, results: Path) -> None:
    header = (
        f"{'decisions':>10} {'source':>10} {'end to end':>11} {'raw':>8} {'ratio':>6} "
        f"{'median':>7} {'cpu ratio':>9} {'one fit':>8} {'ratio':>6} "
        f"{'rounds':>7} {'peak MB e2e':>12} {'(inputs)':>9} {'peak MB raw':>12} {'(inputs)':>9}"
    )
    print(header)
    print("-" * len(header))
    for s in summary:
        cpu_ratio = s["end_to_end_cpu_seconds"] / s["raw_cpu_seconds"]
        print(
            f"{s['size']:>10,} {s['source']:>10} {s['end_to_end_seconds']:>10.2f}s "
            f"{s['raw_seconds']:>7.2f}s {s['ratio']:>5.2f}x {s['median_ratio']:>6.2f}x "
            f"{cpu_ratio:>8.2f}x {s['one_fit_seconds']:>7.2f}s {s['ratio_to_one_fit']:>5.1f}x "
            f"{s['rounds']:>7} "
            f"{s['end_to_end_peak_rss_mb']:>12.0f} {s['end_to_end_rss_before_mb']:>9.0f} "
            f"{s['raw_peak_rss_mb']:>12.0f} {s['raw_rss_before_mb']:>9.0f}"
        )
        p = s.get("phases")
        if p:
            print(
                f"{'':>10} {'':>10} featurise {p['featurise']:.2f} s, train {p['train']:.2f} s, "
                f"calibrate and evaluate {p['calibrate_evaluate']:.2f} s"
            )
    print(
        f"target: {TARGET} (wall clock); raw: the same procedure's LightGBM part on the same "
        f"arrays; one fit: the served refit alone; ratio: best of {repeat} per side, "
        f"median: of the side-by-side pairs; cpu ratio = process CPU seconds; {results}"
    )
    for s in summary:
        if not s["same_choices"] or not s["same_trees"]:
            print(
                f"warning: the raw run chose or fitted differently from the end-to-end one "
                f"at n={s['size']} ({s['source']})"
            )


if __name__ == "__main__":
    sys.exit(main())
