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

Every decision of a workflow is sealed into that workflow's log (hash chain, Merkle
tree, signed checkpoint) by group commit: the baseline is the bare one transaction per
decision, taking the workflow's chain-head lock, as Arbiter did before group commit.
`--workflows N` spreads the items over N workflows (round robin), to show that
workflows do not contend. `--server-workers N` runs Arbiter as `arbiter serve --workers
N` (N processes on one port, with Redis as their bus; the bare endpoint stays one process).

Targets on PostgreSQL (issue 15): p99 <= 50 ms paced; saturating decisions/s at least
2x those before group commit (118/s, BENCHMARKS.md section 2 of 2026-11-24) and above
the bare endpoint's; everywhere Arbiter >= 0.5 of the baseline's decisions/s.

    .venv/bin/python bench/decision_path.py [--backend sqlite|postgresql|all]
        [--rounds 3] [--seconds 8] [--reviewers 50] [--items-per-run 8000] [--workflows 1]
        [--server-workers 1]
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
BEFORE_GROUP_COMMIT = 118.0
"""Saturating decisions/s on PostgreSQL before group commit (one workflow, 50 reviewers)."""
TARGET_SPEED_UP = 2.0
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
    if bad <= 3 then  -- say why, for whoever reads the benchmark's failure
      io.stderr:write("not a decision: " .. status .. " " .. string.sub(body, 1, 300) .. "\\n")
    end
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
            # The bare endpoint writes the chain but no Merkle tree: it gets workflows of
            # its own, so that each server appends only to logs it keeps whole.
            per_run = len(loads) * args.rounds * args.items_per_run
            slices = {}
            for name in ("arbiter", "bare"):
                keys = [f"{WORKFLOW}-{name}-{n}" for n in range(args.workflows)]
                for key in keys:
                    await seeder.workflow(key)
                print(f"{backend}: seeding {per_run} items for {name}", file=sys.stderr)
                per_workflow = [await seeder.items(key, -(-per_run // len(keys))) for key in keys]
                items = [ids[n] for n in range(len(per_workflow[0])) for ids in per_workflow]
                slices[name] = iter(
                    [
                        items[i : i + args.items_per_run]
                        for i in range(0, per_run, args.items_per_run)
                    ]
                )
        for load, think_ms in loads.items():

            def approvals(name: str, server: Server, think_ms: int = think_ms) -> WrkRun:
                ids = next(slices[name])
                # Warm up over as many connections as the run: every pooled database
                # connection is opened (a TLS handshake and authentication each) before
                # the measured run, not during it. Repeats of ids here are not counted.
                run_wrk(server.graphql, ids[:500], tokens, args.reviewers, 2)
                return run_wrk(
                    server.graphql, ids[500:], tokens, args.reviewers, args.seconds, think_ms
                )

            measured = harness.against_bare(
                args.rounds, url, "decide", approvals, workers=args.server_workers
            )
            for name, name_runs in measured.items():
                runs[(load, name)] = name_runs
    rows = []
    for load in loads:
        ours_runs, bare_runs = runs[(load, "arbiter")], runs[(load, "bare")]
        ours = harness.median_of([r.counters["ok"] / r.seconds for r in ours_runs])
        bare = harness.median_of([r.counters["ok"] / r.seconds for r in bare_runs])
        p99 = harness.median_of([r.latency_ms["p99"] for r in ours_runs])
        saturating = not loads[load]
        met = ours / bare >= TARGET_RATIO
        if backend == "postgresql" and saturating:
            met = met and ours >= TARGET_SPEED_UP * BEFORE_GROUP_COMMIT and ours > bare
        if backend == "postgresql" and not saturating:
            met = met and p99 <= TARGET_P99_MS
        rows.append(
            {
                "backend": backend,
                "load": load,
                "workflows": args.workflows,
                "server_workers": args.server_workers,
                "reviewers": args.reviewers,
                "arbiter_decisions_per_s": ours,
                "bare_decisions_per_s": bare,
                "ratio": ours / bare,
                "target": TARGET_RATIO,
                **harness.latency_medians(ours_runs, "arbiter"),
                **harness.latency_medians(bare_runs, "bare"),
                "target_p99_ms": TARGET_P99_MS if backend == "postgresql" else None,
                "speed_up_vs_before": ours / BEFORE_GROUP_COMMIT
                if backend == "postgresql" and saturating
                else None,
                "met": met,
                "rounds_decisions_per_s": {
                    "arbiter": [round(r.counters["ok"] / r.seconds) for r in ours_runs],
                    "bare": [round(r.counters["ok"] / r.seconds) for r in bare_runs],
                },
            }
        )
    return rows


COLUMNS = (
    "backend workflows server_workers load arbiter_decisions_per_s bare_decisions_per_s ratio "
    "speed_up_vs_before arbiter_p99_ms bare_p99_ms met"
)
TARGET_TEXT = (
    f"arbiter >= {TARGET_RATIO} of the bare endpoint's decisions/s; on PostgreSQL: "
    f"p99 <= {TARGET_P99_MS} ms paced, saturating >= {TARGET_SPEED_UP}x "
    f"{BEFORE_GROUP_COMMIT:.0f}/s (before group commit) and above the bare endpoint"
)


def settings(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "mutation": APPROVE,
        **harness.options(
            args, "reviewers", "think_ms", "seconds", "rounds", "workflows", "server_workers"
        ),
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
        lambda args: (
            "decision_path"
            + ("" if args.workflows == 1 else "_workflows")
            + ("" if args.server_workers == 1 else "_server_workers")
        ),
        reviewers=50,
        items_per_run=8000,
        think_ms=1000,
        workflows=1,
        server_workers=1,
    )
