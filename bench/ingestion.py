"""Benchmark 3, ingestion: submitRecommendations in batches of 500.

A SERVICE caller submits batches of 500 items (payloads of five fields, no
externalId, confidences that the default ladder sends to the analyst queue)
over `--connections` keep-alive connections (wrk, one thread). The baseline
(bench/baselines/ingest.py) is a bare endpoint that parses the same JSON and
stores the same rows (item and outbox event per item) by raw executemany in
one transaction. Rounds alternate; medians.

Target: >= 5,000 items/s on PostgreSQL; the ratio against the raw executemany.

    .venv/bin/python bench/ingestion.py [--backend sqlite|postgresql|all]
        [--rounds 3] [--seconds 8] [--connections 4] [--batch 500]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (
    BACKENDS,
    alternate,
    arbiter,
    baseline,
    median_of,
    post_script,
    print_table,
    scratch_database,
    steady,
    write_result,
)
from bench.seed import ANALYST_CONFIDENCE, Seeder, payload
from domain.enums import Role

TARGET_ITEMS_PER_S = 5000
WORKFLOW = "ingest"
SUBMIT = (
    "mutation($wf: String!, $items: [RecommendationInput!]!) { "
    "submitRecommendations(workflow: $wf, items: $items) { __typename "
    "... on SubmitSuccess { created duplicates } ... on Problem { message } } }"
)


def script(token: str, batch: int) -> str:
    items = [
        {"payload": payload(n), "proposedAction": "APPROVE_LOAN", "confidence": ANALYST_CONFIDENCE}
        for n in range(batch)
    ]
    body = json.dumps({"query": SUBMIT, "variables": {"wf": WORKFLOW, "items": items}})
    return post_script(token, body, f'"created":{batch}')


async def measure(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    async with scratch_database(backend) as url:
        async with Seeder(url) as seeder:
            (token,) = await seeder.users(Role.SERVICE, 1, "service")
            await seeder.workflow(WORKFLOW)

        load = steady(script(token, args.batch), args.connections, args.seconds)
        runs = alternate(
            args.rounds,
            {
                "arbiter": lambda: arbiter(url, token_cache_seconds=30),
                "bare": lambda: baseline("ingest", url, "--token-cache-seconds", "30"),
            },
            load,
        )
    per_s = {n: [r.counters["ok"] * args.batch / r.seconds for r in runs[n]] for n in runs}
    ours, bare = median_of(per_s["arbiter"]), median_of(per_s["bare"])
    return {
        "backend": backend,
        "batch": args.batch,
        "arbiter_items_per_s": ours,
        "bare_items_per_s": bare,
        "ratio": ours / bare,
        "target_items_per_s": TARGET_ITEMS_PER_S if backend == "postgresql" else None,
        "met": backend != "postgresql" or ours >= TARGET_ITEMS_PER_S,
        "arbiter_batch_p50_ms": median_of([r.latency_ms["p50"] for r in runs["arbiter"]]),
        "arbiter_batch_p99_ms": median_of([r.latency_ms["p99"] for r in runs["arbiter"]]),
        "bare_batch_p50_ms": median_of([r.latency_ms["p50"] for r in runs["bare"]]),
        "rounds_items_per_s": {n: [round(v) for v in per_s[n]] for n in per_s},
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=[*BACKENDS, "all"], default="all")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    rows = [
        await measure(backend, args)
        for backend in (BACKENDS if args.backend == "all" else (args.backend,))
    ]
    print_table(
        rows,
        [
            "backend",
            "arbiter_items_per_s",
            "bare_items_per_s",
            "ratio",
            "arbiter_batch_p99_ms",
            "met",
        ],
    )
    write_result(
        "ingestion",
        {
            "target": f">= {TARGET_ITEMS_PER_S} items/s on PostgreSQL; ratio against a bare "
            "endpoint storing the same rows by executemany",
            "settings": {
                "batch": args.batch,
                "connections": args.connections,
                "seconds": args.seconds,
                "rounds": args.rounds,
            },
            "summary": rows,
        },
    )


if __name__ == "__main__":
    asyncio.run(main())
