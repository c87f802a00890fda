"""Benchmark: the learning loop, month by month (issue 13), through the public API.

    .venv/bin/python -m bench.loop [--months 6] [--cases-per-month 1000] [--seed 1]

Runs `arbiter simulate-loop` with its default settings (api.simulate_loop.run_loop: a
generated loan world with a planted rule, six simulated months, the upstream model and
then each retrained model proposing, simulated reviewers with mistakes and fatigue,
recommendThreshold moving the ladder) and writes bench/results/loop.json (the report),
bench/results/loop.md (its table) and docs/loop.png (its chart), shown in BENCHMARKS.md
section 6f. Nothing here is a timing: the figures are the loop's own (accuracy on fresh
cases, share auto-approved and its true error, human reviews), so they do not depend on
the machine; the run's wall-clock time is recorded beside them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import tempfile
from pathlib import Path

from api.simulate_loop.command import arguments, settings_from
from api.simulate_loop.run import run_loop

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
CHART = ROOT / "docs" / "loop.png"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    arguments(parser)  # the command's own arguments and defaults (--out is not used here)
    settings = settings_from(parser.parse_args())
    report = asyncio.run(run_loop(settings, say=lambda line: print(line, flush=True)))
    with tempfile.TemporaryDirectory() as scratch:
        json_path, md_path, png_path = report.write(Path(scratch))
        RESULTS.mkdir(parents=True, exist_ok=True)
        CHART.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(json_path, RESULTS / "loop.json")
        shutil.copyfile(md_path, RESULTS / "loop.md")
        shutil.copyfile(png_path, CHART)
    print()
    print(report.markdown(), end="")
    promise = json.loads((RESULTS / "loop.json").read_text())["promise"]
    print(f"\npromise: {promise}; {report.seconds:.0f} s; wrote {RESULTS / 'loop.json'}, {CHART}")


if __name__ == "__main__":
    main()
