"""Benchmark: retraining end to end against raw LightGBM on the same data.

For each size N, labelled decisions come from ml.worlds.generate_world(N, seed)
(humans' labels = true_action, proposals = upstream_action). Two measurements,
each in its own subprocess so that peak memory (ru_maxrss) is its own:

  end to end  ml.classifier.train_classifier(examples): order by time, flatten
              and featurise the payloads, infer the spec, split, build the
              LightGBM datasets, train with early stopping on the validation
              slice, calibrate, evaluate on the holdout.
  raw         lightgbm.Dataset + lightgbm.train on the training slice's arrays
              (exactly the matrix and labels the end-to-end run trained on,
              saved by it), with the same parameters and the number of rounds
              the end-to-end run actually boosted (best iteration + patience),
              no validation set.

Generating the world and loading the arrays are not timed. The raw run also
checks that its first best_iteration trees predict what the stored model does.
The machine may be shared, so each pair is run --repeat times, interleaved,
and the best time of each side is compared (all times are kept in the JSON).

    .venv/bin/python bench/retrain.py [--sizes 100000 1000000] [--repeat 2]
        [--rule young_healthcare] [--threads 2] [--timeout 1800]

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
    np.save(workdir / "X.npy", np.ascontiguousarray(data.X[data.train]))
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
        "rounds": booster.current_iteration(),
        "same_trees_as_end_to_end": same,
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
    parser.add_argument("--worker", choices=["e2e", "raw"], help=argparse.SUPPRESS)
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
        runs.append({"size": size, "end_to_end": e2e_runs, "raw": raw_runs})
        summary.append(
            {
                "size": size,
                "end_to_end_seconds": best_e2e["seconds"],
                "raw_seconds": best_raw["seconds"],
                "ratio": best_e2e["seconds"] / best_raw["seconds"],
                "end_to_end_cpu_seconds": min(r["cpu_seconds"] for r in e2e_runs),
                "raw_cpu_seconds": min(r["cpu_seconds"] for r in raw_runs),
                "phases": best_e2e["phases"],
                "end_to_end_peak_rss_mb": max(r["peak_rss_mb"] for r in e2e_runs),
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

    report: dict[str, Any] = {
        "benchmark": "retrain",
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), **_versions()},
        "settings": {
            "rule": args.rule,
            "seed": args.seed,
            "threads": args.threads,
            "repeat": args.repeat,
        },
        "target": "end to end <= 2x raw",
        "summary": summary,
        "runs": runs,
        "total_seconds": time.perf_counter() - started,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")

    header = (
        f"{'decisions':>10} {'end to end':>11} {'raw lgbm':>9} {'ratio':>6} {'cpu ratio':>9} "
        f"{'featurise':>10} {'train':>7} {'cal+eval':>9} {'rounds':>7} "
        f"{'peak MB e2e':>12} {'(inputs)':>9} {'peak MB raw':>12} {'(inputs)':>9}"
    )
    print(header)
    print("-" * len(header))
    for s in summary:
        p = s["phases"]
        cpu_ratio = s["end_to_end_cpu_seconds"] / s["raw_cpu_seconds"]
        print(
            f"{s['size']:>10,} {s['end_to_end_seconds']:>10.2f}s {s['raw_seconds']:>8.2f}s "
            f"{s['ratio']:>5.2f}x "
            f"{cpu_ratio:>8.2f}x {p['featurise']:>9.2f}s {p['train']:>6.2f}s "
            f"{p['calibrate_evaluate']:>8.2f}s {s['rounds']:>7} "
            f"{s['end_to_end_peak_rss_mb']:>12.0f} {s['end_to_end_rss_before_mb']:>9.0f} "
            f"{s['raw_peak_rss_mb']:>12.0f} {s['raw_rss_before_mb']:>9.0f}"
        )
    print(
        f"target: {report['target']} (wall clock); best of {args.repeat} per side; "
        f"cpu ratio = process CPU seconds, less sensitive to a shared machine; {RESULTS}"
    )
    for s in summary:
        if not s["same_trees"]:
            print(f"warning: raw trees differ from the end-to-end model at n={s['size']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
