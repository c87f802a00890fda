"""Benchmark 2, the decision path: approvals from 50 concurrent reviewers.

50 ANALYST reviewers (one token each) approve PENDING analyst-queue items by id
over 50 keep-alive connections (wrk, one thread): every request approves a
different item, so every one is a real decision (a Conflict would be counted
as a failure). Arbiter (`arbiter serve`) runs
`mutation($id: ID!) { approve(id: $id) { __typename ... } }`; the baseline
(bench/baselines/decide.py) is a bare Starlette endpoint doing the same SQL in
one transaction. Both use the same token cache. Rounds alternate; medians.

Two loads: saturating (each connection sends its next approval as soon as the
last is answered) and paced (each reviewer waits `--think-ms` between answer
and next approval, 1 s on average, drawn evenly from 0.5 to 1.5 s: about 50
decisions a second offered by the 50, below what one process sustains, and still
far faster than people decide).

Targets: Arbiter >= 0.5 of the baseline's decisions/s; p99 <= 50 ms on PostgreSQL.

    .venv/bin/python bench/decision_path.py [--backend sqlite|postgresql|all]
        [--rounds 3] [--seconds 8] [--reviewers 50] [--items-per-run 8000]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness
from bench.harness import Server
from bench.seed import Seeder
from bench.wrk import WrkRun, wrk
from domain.enums import Role

TARGET_RATIO = 0.5
TARGET_P99_MS = 50.0
WORKFLOW = "decisions"
APPROVE = (
    "mutation($id: ID!) { approve(id: $id) { __typename "
    "... on DecisionSuccess { decision { id } } ... on Problem { message } } }"
)

SCRIPT = """
local ids, tokens = {}, {}
for line in io.lines(os.getenv("BENCH_IDS")) do ids[#ids + 1] = line end
for line in io.lines(os.getenv("BENCH_TOKENS")) do tokens[#tokens + 1] = line end
local n = 0
ok, bad = 0, 0
local prefix = '{"query":' .. os.getenv("BENCH_QUERY") .. ',"variables":{"id":"'

request = function()
  n = n + 1
  if n > #ids then n = 1 end  -- ran out: the repeats answer Conflict, counted as bad
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. tokens[(n % #tokens) + 1],
  }
  return wrk.format("POST", nil, headers, prefix .. ids[n] .. '"}}')
end

local think = tonumber(os.getenv("BENCH_THINK_MS") or "0")
if think > 0 then
  -- Uneven, as people are: reviewers in lockstep would arrive as one burst a second.
  math.randomseed(os.time())
  delay = function() return math.random(math.floor(think / 2), math.floor(think * 3 / 2)) end
end

response = function(status, headers, body)
  if status == 200 and string.find(body, "DecisionSuccess", 1, true) then
    ok = ok + 1
  else
    bad = bad + 1
  end
end
"""


def run_wrk(
    url: str,
    ids: list[str],
    tokens: list[str],
    connections: int,
    seconds: float,
    think_ms: int = 0,
    script: str = SCRIPT,
    environment: dict[str, str] | None = None,
) -> Any:
    """`script` (this benchmark's approvals unless told) over `connections`, with the ids
    and tokens in files it reads, and `environment` for its own settings."""
    with tempfile.TemporaryDirectory() as directory:
        id_file = Path(directory, "ids")
        id_file.write_text("\n".join(ids) + "\n")
        token_file = Path(directory, "tokens")
        token_file.write_text("\n".join(tokens) + "\n")
        return wrk(
            url,
            script,
            connections=connections,
            seconds=seconds,
            environment={
                "BENCH_IDS": str(id_file),
                "BENCH_TOKENS": str(token_file),
                "BENCH_QUERY": json.dumps(APPROVE),
                "BENCH_THINK_MS": str(think_ms),
                **(environment or {}),
            },
        )


async def measure(backend: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    loads = {"saturating": 0, f"paced: each reviewer waits {args.think_ms} ms": args.think_ms}
    runs: dict[tuple[str, str], list[Any]] = {}
    async with harness.scratch_database(backend) as url:
        async with Seeder(url) as seeder:
            tokens = await seeder.users(Role.ANALYST, args.reviewers, "reviewer")
            await seeder.workflow(WORKFLOW)
            needed = len(loads) * args.rounds * 2 * args.items_per_run
            print(f"{backend}: seeding {needed} items", file=sys.stderr)
            items = await seeder.items(WORKFLOW, needed)
        slices = iter(
            items[i : i + args.items_per_run] for i in range(0, needed, args.items_per_run)
        )
        for load, think_ms in loads.items():

            def approvals(name: str, server: Server, think_ms: int = think_ms) -> WrkRun:
                ids = next(slices)
                run_wrk(server.graphql, ids[:300], tokens, 4, 1)  # warm up
                return run_wrk(
                    server.graphql, ids[300:], tokens, args.reviewers, args.seconds, think_ms
                )

            measured = harness.against_bare(args.rounds, url, "decide", approvals)
            for name, name_runs in measured.items():
                runs[(load, name)] = name_runs
    rows = []
    for load in loads:
        ours_runs, bare_runs = runs[(load, "arbiter")], runs[(load, "bare")]
        ours = harness.median_of([r.counters["ok"] / r.seconds for r in ours_runs])
        bare = harness.median_of([r.counters["ok"] / r.seconds for r in bare_runs])
        p99 = harness.median_of([r.latency_ms["p99"] for r in ours_runs])
        rows.append(
            {
                "backend": backend,
                "load": load,
                "reviewers": args.reviewers,
                "arbiter_decisions_per_s": ours,
                "bare_decisions_per_s": bare,
                "ratio": ours / bare,
                "target": TARGET_RATIO,
                **harness.latency_medians(ours_runs, "arbiter"),
                **harness.latency_medians(bare_runs, "bare"),
                "target_p99_ms": TARGET_P99_MS if backend == "postgresql" else None,
                "met": ours / bare >= TARGET_RATIO
                and (backend != "postgresql" or p99 <= TARGET_P99_MS),
                "rounds_decisions_per_s": {
                    "arbiter": [round(r.counters["ok"] / r.seconds) for r in ours_runs],
                    "bare": [round(r.counters["ok"] / r.seconds) for r in bare_runs],
                },
            }
        )
    return rows


COLUMNS = (
    "backend load arbiter_decisions_per_s bare_decisions_per_s ratio arbiter_p99_ms bare_p99_ms met"
)
TARGET_TEXT = (
    f"arbiter >= {TARGET_RATIO} of the bare endpoint's decisions/s; "
    f"p99 <= {TARGET_P99_MS} ms on PostgreSQL"
)


def settings(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "mutation": APPROVE,
        **harness.options(args, "reviewers", "think_ms", "seconds", "rounds"),
        "wrk_threads": 1,
    }


if __name__ == "__main__":
    harness.main(
        __doc__,
        "decision_path",
        measure,
        COLUMNS,
        TARGET_TEXT,
        settings,
        reviewers=50,
        items_per_run=8000,
        think_ms=1000,
    )
