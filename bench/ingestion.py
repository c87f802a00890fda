"""Benchmark 3, ingestion: submitRecommendations in batches of 500.

A SERVICE caller submits batches of 500 items (payloads of five fields, no
externalId, confidences that the default ladder sends to the analyst queue)
over `--connections` keep-alive connections (wrk, one thread). The baseline
(bench/baselines/ingest.py) is a bare endpoint that parses the same JSON and
stores the same rows (item and outbox event per item) by raw executemany in
one transaction. Rounds alternate; medians.

Target: >= 5,000 items/s on PostgreSQL; the ratio against the raw executemany.

`--auto 1`: confidences the default ladder auto-approves (0.95), so that every item
is also an automated decision sealed into the workflow's log (chain, Merkle tree,
signed checkpoint) by group commit. Target then (issue 15): >= 10,000 items/s on
PostgreSQL; the bare endpoint still stores only items and events, so the ratio says
what the decisions and the log cost on top.

    .venv/bin/python bench/ingestion.py [--backend sqlite|postgresql|all]
        [--rounds 3] [--seconds 8] [--connections 4] [--batch 500] [--auto 0|1]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness
from bench.seed import ANALYST_CONFIDENCE, Seeder, payload
from bench.wrk import post_script
from domain.enums import Role

TARGET_ITEMS_PER_S = 5000
TARGET_AUTO_ITEMS_PER_S = 10_000
AUTO_CONFIDENCE = 0.95  # the default ladder auto-approves from 0.90
WORKFLOW = "ingest"
SUBMIT = (
    "mutation($wf: String!, $items: [RecommendationInput!]!) { "
    "submitRecommendations(workflow: $wf, items: $items) { __typename "
    "... on SubmitSuccess { created duplicates } ... on Problem { message } } }"
)


def script(token: str, batch: int, confidence: float = ANALYST_CONFIDENCE) -> str:
    items = [
        {"payload": payload(n), "proposedAction": "APPROVE_LOAN", "confidence": confidence}
        for n in range(batch)
    ]
    body = json.dumps({"query": SUBMIT, "variables": {"wf": WORKFLOW, "items": items}})
    return post_script(token, body, f'"created":{batch}')


async def measure(backend: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    async with harness.scratch_database(backend) as url:
        async with Seeder(url) as seeder:
            (token,) = await seeder.users(Role.SERVICE, 1, "service")
            await seeder.workflow(WORKFLOW)

        confidence = AUTO_CONFIDENCE if args.auto else ANALYST_CONFIDENCE
        load = harness.steady(script(token, args.batch, confidence), args.connections, args.seconds)
        runs = harness.against_bare(args.rounds, url, "ingest", load)
    per_s = {n: [r.counters["ok"] * args.batch / r.seconds for r in runs[n]] for n in runs}
    ours, bare = harness.median_of(per_s["arbiter"]), harness.median_of(per_s["bare"])
    target = TARGET_AUTO_ITEMS_PER_S if args.auto else TARGET_ITEMS_PER_S
    row = {
        "backend": backend,
        "auto_approved": bool(args.auto),
        "batch": args.batch,
        "arbiter_items_per_s": ours,
        "bare_items_per_s": bare,
        "ratio": ours / bare,
        "target_items_per_s": target if backend == "postgresql" else None,
        "met": backend != "postgresql" or ours >= target,
        **harness.latency_medians(runs["arbiter"], "arbiter_batch"),
        **harness.latency_medians(runs["bare"], "bare_batch", ("p50",)),
        "rounds_items_per_s": {n: [round(v) for v in per_s[n]] for n in per_s},
    }
    return [row]


COLUMNS = (
    "backend auto_approved arbiter_items_per_s bare_items_per_s ratio arbiter_batch_p99_ms met"
)
TARGET_TEXT = (
    f">= {TARGET_ITEMS_PER_S} items/s on PostgreSQL (>= {TARGET_AUTO_ITEMS_PER_S} with "
    "--auto 1: every item auto-approved and logged); ratio against a bare endpoint "
    "storing the items and events by executemany"
)


def settings(args: argparse.Namespace) -> dict[str, Any]:
    return harness.options(args, "batch", "connections", "seconds", "rounds", "auto")


if __name__ == "__main__":
    harness.main(
        __doc__,
        "ingestion",
        measure,
        COLUMNS,
        TARGET_TEXT,
        settings,
        lambda args: "ingestion_auto" if args.auto else "ingestion",
        connections=4,
        batch=500,
        auto=0,
    )
