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

Results: a table on stdout and bench/results/retrain.json. The measured runs themselves
(each a `--worker` subprocess of this script) are in bench/retrain_workers.py.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.retrain_workers import setup_database, worker_database, worker_end_to_end, worker_raw

TARGET = "end to end <= 2x raw"
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
        "same_trees": all(r["same_trees_as_end_to_end"] for r in raw_runs),
    }


def _database_row(size: int, args: argparse.Namespace, runs: list[dict]) -> dict:
    """End to end from the decision log in SQLite (the job's path: stream the rows,
    featurise them batch by batch, train), against raw LightGBM on the arrays it trained
    on; beside it, the job's former path (all rows, then all examples, then training)."""
    db_runs, raw_runs, old_runs = [], [], []
    with tempfile.TemporaryDirectory(prefix="arbiter-bench-db-") as tmp:
        common = _worker_options(size, tmp, args)
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
    best_db = _fastest(db_runs)
    return {
        **_times(size, "database", db_runs, raw_runs),
        **_memory(db_runs, raw_runs),
        "all_rows_first_seconds": _fastest(old_runs)["seconds"],
        "median_all_rows_first_seconds": statistics.median([r["seconds"] for r in old_runs]),
        "all_rows_first_peak_rss_mb": max(r["peak_rss_mb"] for r in old_runs),
        **{name: best_db[name] for name in QUALITY},
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

    from bench.common import save_result  # here: the workers' processes stay without httpx

    runs: list[dict] = []
    started = time.perf_counter()
    summary = [_memory_row(size, args, runs) for size in args.sizes]
    summary += [_database_row(size, args, runs) for size in args.db_sizes]

    report: dict[str, Any] = {
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
    results = save_result("retrain", report, stamp="created_at")

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
        f"less sensitive to a shared machine; {results}"
    )
    for s in summary:
        if not s["same_trees"]:
            print(f"warning: raw trees differ from the end-to-end model at n={s['size']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
