"""The measured runs of bench/retrain.py, each in a process of its own (`--worker`), so
that the peak resident memory (ru_maxrss) of a run is its own.

  end to end        ml.classifier.train_classifier on a generated world's examples
  from the database the RETRAIN job's path from a decision log in SQLite or PostgreSQL
                    (streamed: workers.retrain.stream_training_set, then training)
  raw               the same procedure's LightGBM part on the arrays the end-to-end run
                    trained on (bench/retrain_raw.py)

Each returns a JSON-able dict of its figures; bench/retrain.py compares them.
"""

from __future__ import annotations

import contextlib
import gc
import os
import resource
import time
from collections.abc import Iterator
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


def model_figures(trained: Any) -> dict[str, Any]:
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

    from bench.retrain_raw import save_for_raw

    save_for_raw(workdir, examples, trained, seed, threads)
    return {
        **clock.times(),
        "phases": {
            "featurise": at(0.1),
            "train": at(0.8) - at(0.1),
            "calibrate_evaluate": clock.seconds - at(0.8),
        },
        **clock.memory(),
        **model_figures(trained),
    }
