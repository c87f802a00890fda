"""Benchmark 1, the read path: `query { me { id name role } }` against a bare endpoint.

Arbiter (`arbiter serve`) and a bare Starlette endpoint (bench/baselines/read.py)
that does the same token look-up (SHA-256 of the bearer token, then the users
row) and answers the same JSON, served the same way, get the same wrk load
(one wrk thread, `--connections` keep-alive connections, `--seconds` each)
in alternating rounds. Two conditions, each compared like for like:

- token looked up in the database on every request (ARBITER_TOKEN_CACHE_SECONDS=0,
  and the baseline the same);
- token cache on (Arbiter's default, 30 s; the baseline uses the same cache).

Target: Arbiter >= 0.40 of the bare endpoint's throughput.

    .venv/bin/python bench/read_path.py [--backend sqlite|postgresql|all] [--rounds 3]
        [--seconds 8] [--connections 32]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness
from bench.seed import Seeder
from bench.wrk import post_script
from domain.enums import Role

TARGET = 0.40
QUERY = "query { me { id name role } }"


def script(token: str) -> str:
    return post_script(token, json.dumps({"query": QUERY, "variables": {}}), '"me":{')


async def measure(backend: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    rows = []
    async with harness.scratch_database(backend) as url:
        async with Seeder(url) as seeder:
            (token,) = await seeder.users(Role.ANALYST, 1, "reader")
        for label, cache_seconds in (("token looked up per request", 0), ("token cache", 30)):
            load = harness.steady(script(token), args.connections, args.seconds, 4)
            runs = harness.against_bare(args.rounds, url, "read", load, cache_seconds)
            ours = harness.median_of([r.per_second for r in runs["arbiter"]])
            bare = harness.median_of([r.per_second for r in runs["bare"]])
            rows.append(
                {
                    "backend": backend,
                    "condition": label,
                    "arbiter_rps": ours,
                    "bare_rps": bare,
                    "ratio": ours / bare,
                    "target": TARGET,
                    "met": ours / bare >= TARGET,
                    **harness.latency_medians(runs["arbiter"], "arbiter"),
                    **harness.latency_medians(runs["bare"], "bare"),
                    "rounds_rps": {
                        name: [round(r.per_second) for r in runs[name]] for name in runs
                    },
                }
            )
    return rows


COLUMNS = "backend condition arbiter_rps bare_rps ratio arbiter_p99_ms met"
TARGET_TEXT = f"arbiter >= {TARGET} of the bare endpoint's requests/s"


def settings(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "query": QUERY,
        **harness.options(args, "connections", "seconds", "rounds"),
        "wrk_threads": 1,
    }


if __name__ == "__main__":
    harness.main(__doc__, "read_path", measure, COLUMNS, TARGET_TEXT, settings, connections=32)
