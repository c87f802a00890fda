"""Benchmark 7, the cost of a vote: items decided by one review against items decided by
two agreeing votes of three, on PostgreSQL.

Two workflows in one scratch database get the same items (same payloads, analyst
queue): "single" with version 1's policy (reviewsRequired 1), where one approval
decides an item, and "two-of-three" (reviewsRequired 3, agreementRequired 2), where
an item takes two agreeing approvals from two distinct reviewers: the first is a
vote that leaves it collecting, the second completes the consensus and decides it.
Reviewers approve by id over keep-alive connections (wrk, one thread), every request
a real decision or vote (a Conflict is counted as a failure). Votes on one item come a
wave apart: with C connections, C first votes on C items, then the C second votes,
so the two votes on an item do not queue behind each other's row lock by construction.
The two modes alternate, each on a fresh `arbiter serve`; medians over the rounds.

Two loads: saturating (each connection sends its next request as soon as the last is
answered) and paced (each reviewer waits `--think-ms` on average, drawn evenly from half
to one and a half of it). Figures: per-request p50 / p99 of a decision and of a vote,
their ratio (the cost of a vote), and items decided per second in each mode (an item
under 2-of-3 takes two requests, so about half as many when a vote costs a decision).
Then, in this process and one request at a time (no HTTP, no concurrency), the SQL
statements each request sends and its median time, in each mode. Every run checks its
outcome in the database: items decided, votes cast, no item with a third vote.
No pass/fail target: it is a measurement; the ratios are what to read.

    .venv/bin/python bench/vote_path.py [--rounds 3] [--seconds 6] [--reviewers 20]
        [--think-ms 250] [--items-per-run 1500]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa

from bench import decision_path, harness
from bench.harness import Server
from bench.seed import Seeder
from bench.wrk import WrkRun
from domain.enums import Role, Verdict
from domain.usecases.accounts import create_user
from domain.usecases.decide import DecisionRequest, decide
from domain.usecases.workflows import update_policy
from store.database import connect
from store.tables import decisions_t, recs_t, workflows_t

MODES = {"single": 1, "two-of-three": 2}
"""Each mode's workflow key and the agreeing votes that decide one of its items."""
POLICIES: dict[str, dict[str, Any]] = {
    "single": {},
    "two-of-three": {"reviews_required": 3, "agreement_required": 2},
}
WARM_UP_ITEMS = 100
IN_PROCESS_ITEMS = 200
APPROVE = decision_path.APPROVE

# decision_path's script (ids, tokens, pacing, the check of each answer) with its own
# `request` replaced: in one Lua chunk, the later definition is the one wrk calls.
SCRIPT = (
    decision_path.SCRIPT
    + """
local votes = tonumber(os.getenv("BENCH_VOTES"))
local wave = tonumber(os.getenv("BENCH_WAVE"))
local m = -1

request = function()
  m = m + 1
  local item, vote = m, 0
  if votes > 1 then
    -- A wave of first votes on `wave` items, then their second votes.
    local block = math.floor(m / (votes * wave))
    local within = m % (votes * wave)
    item = block * wave + within % wave
    vote = math.floor(within / wave)
  end
  -- Ran out: the repeats answer Conflict, counted as bad.
  local id = ids[(item % #ids) + 1]
  -- The votes on one item come from distinct reviewers.
  local token = tokens[((item + vote) % #tokens) + 1]
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
  }
  return wrk.format("POST", nil, headers, prefix .. id .. '"}}')
end
"""
)


def run_wrk(
    url: str,
    ids: list[str],
    tokens: list[str],
    votes: int,
    connections: int,
    seconds: float,
    think_ms: int = 0,
) -> WrkRun:
    """Approvals of `ids` over `connections`, each item `votes` times by distinct reviewers."""
    run: WrkRun = decision_path.run_wrk(
        url,
        ids,
        tokens,
        connections,
        seconds,
        think_ms,
        script=SCRIPT,
        environment={"BENCH_VOTES": str(votes), "BENCH_WAVE": str(connections)},
    )
    return run


async def seed(seeder: Seeder, key: str, count: int) -> list[str]:
    """The workflow `key` with its mode's policy, and `count` analyst items in it."""
    await seeder.workflow(key)
    if POLICIES[key]:
        await seeder.runtime.run(update_policy, seeder.admin, key, POLICIES[key])
    return await seeder.items(key, count)


async def _per_workflow(connection: Any, column: Any, condition: Any) -> dict[str, int]:
    """COUNT(*) per workflow of the rows of `column`'s table that meet `condition`."""
    query = sa.select(column, sa.func.count()).where(condition).group_by(column)
    return {str(key): int(n) for key, n in (await connection.execute(query)).all()}


async def outcomes(url: str) -> dict[str, dict[str, int]]:
    """Per workflow: decided items and votes cast; and the items that took a third vote
    (none should: the second agreeing vote decides)."""
    database = connect(url)
    try:
        async with database.read_engine.connect() as connection:
            decided = await _per_workflow(
                connection, recs_t.c.workflow_id, recs_t.c.decided_at.is_not(None)
            )
            votes = await _per_workflow(
                connection, decisions_t.c.workflow_id, decisions_t.c.vote.is_(True)
            )
            per_item = (
                sa.select(decisions_t.c.recommendation_id, sa.func.count().label("n"))
                .where(decisions_t.c.vote.is_(True))
                .group_by(decisions_t.c.recommendation_id)
                .subquery()
            )
            third = (
                await connection.execute(sa.select(sa.func.count()).where(per_item.c.n > 2))
            ).scalar_one()
            keys = (await connection.execute(sa.select(workflows_t.c.id, workflows_t.c.key))).all()
    finally:
        await database.dispose()
    found = {
        str(key): {"items_decided": decided.get(w, 0), "votes": votes.get(w, 0)} for w, key in keys
    }
    return {**found, "items_with_a_third_vote": {"count": int(third)}}


async def one_at_a_time(seeder: Seeder, items: dict[str, list[str]]) -> dict[str, Any]:
    """In this process, one request at a time (no HTTP, no concurrency): per request of
    each mode, the SQL statements sent and the median time of the use case."""
    people = [
        (await seeder.runtime.run(create_user, None, f"in-process-{n}", Role.ANALYST))[0]
        for n in range(max(MODES.values()))
    ]
    sent = [0]

    def count(*_: Any) -> None:
        sent[0] += 1

    engines = {seeder.database.write_engine.sync_engine, seeder.database.read_engine.sync_engine}
    for engine in engines:
        sa.event.listen(engine, "before_cursor_execute", count)
    figures: dict[str, Any] = {}
    try:
        for key, votes in MODES.items():
            sent[0], times = 0, []
            for item in items[key]:
                for voter in people[:votes]:
                    started = time.perf_counter()
                    request = DecisionRequest(item, Verdict.APPROVE)
                    await seeder.runtime.run(decide, voter, request, timedelta(minutes=5))
                    times.append((time.perf_counter() - started) * 1000)
            figures[key] = {
                "requests": len(times),
                "statements_per_request": sent[0] / len(times),
                "median_ms": statistics.median(times),
            }
    finally:
        for engine in engines:
            sa.event.remove(engine, "before_cursor_execute", count)
    single, voted = figures["single"], figures["two-of-three"]
    figures["vote_to_decision_ms"] = voted["median_ms"] / single["median_ms"]
    return figures


async def measure(args: argparse.Namespace) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    loads = {"saturating": 0, f"paced: each reviewer waits {args.think_ms} ms": args.think_ms}
    runs: dict[tuple[str, str], list[WrkRun]] = {}
    async with harness.scratch_database("postgresql") as url, Seeder(url) as seeder:
        needed = len(loads) * args.rounds * args.items_per_run
        print(f"postgresql: seeding {needed} items in each mode", file=sys.stderr)
        tokens = await seeder.users(Role.ANALYST, args.reviewers, "reviewer")
        items = {key: await seed(seeder, key, needed + IN_PROCESS_ITEMS) for key in MODES}
        step = args.items_per_run
        slices = {
            key: iter([ids[i : i + step] for i in range(0, needed, step)])
            for key, ids in items.items()
        }
        for load, think_ms in loads.items():

            def requests(name: str, server: Server, think_ms: int = think_ms) -> WrkRun:
                ids, votes = next(slices[name]), MODES[name]
                warm, measured = ids[:WARM_UP_ITEMS], ids[WARM_UP_ITEMS:]
                run_wrk(server.graphql, warm, tokens, votes, 4, 1)
                return run_wrk(
                    server.graphql, measured, tokens, votes, args.reviewers, args.seconds, think_ms
                )

            servers = {key: lambda: harness.arbiter(url, token_cache_seconds=30) for key in MODES}
            for name, name_runs in harness.alternate(args.rounds, servers, requests).items():
                runs[(load, name)] = name_runs
        checked = await outcomes(url)
        alone = await one_at_a_time(seeder, {k: ids[needed:] for k, ids in items.items()})
    rows = [row(load, runs[(load, "single")], runs[(load, "two-of-three")], args) for load in loads]
    return rows, {"outcomes": checked, "one_at_a_time": alone}


def row(
    load: str, single: list[WrkRun], voted: list[WrkRun], args: argparse.Namespace
) -> dict[str, Any]:
    decisions = harness.median_of([r.counters["ok"] / r.seconds for r in single])
    votes = harness.median_of([r.counters["ok"] / r.seconds for r in voted])
    latency = {
        **harness.latency_medians(single, "decision"),
        **harness.latency_medians(voted, "vote"),
    }
    return {
        "backend": "postgresql",
        "load": load,
        "reviewers": args.reviewers,
        "decisions_per_s": decisions,
        "votes_per_s": votes,
        "items_per_s_single": decisions,
        "items_per_s_two_of_three": votes / MODES["two-of-three"],
        "items_ratio": votes / MODES["two-of-three"] / decisions,
        **latency,
        "vote_to_decision_p50": latency["vote_p50_ms"] / latency["decision_p50_ms"],
        "vote_to_decision_p99": latency["vote_p99_ms"] / latency["decision_p99_ms"],
        "rounds_requests_per_s": {
            "single": [round(r.counters["ok"] / r.seconds) for r in single],
            "two-of-three": [round(r.counters["ok"] / r.seconds) for r in voted],
        },
    }


COLUMNS = (
    "load decisions_per_s votes_per_s items_ratio decision_p50_ms vote_p50_ms "
    "vote_to_decision_p50 decision_p99_ms vote_p99_ms vote_to_decision_p99"
)
TARGET_TEXT = (
    "none (a measurement): the cost of a vote against a version 1 decision, as ratios "
    "of per-request latency and of items decided per second"
)


def main() -> None:
    parser = harness.arguments(__doc__, reviewers=20, think_ms=250, items_per_run=1500)
    parser.set_defaults(seconds=6.0)  # --backend is ignored: votes are measured on PostgreSQL
    args = parser.parse_args()
    rows, checked = asyncio.run(measure(args))
    harness.print_table(rows, COLUMNS.split())
    print(json.dumps(checked, indent=2))
    settings = {
        "mutation": APPROVE,
        "policies": {key: POLICIES[key] or {"reviews_required": 1} for key in MODES},
        **harness.options(args, "reviewers", "think_ms", "seconds", "rounds", "items_per_run"),
        "wrk_threads": 1,
    }
    harness.write_result(
        "vote_path",
        {"target": TARGET_TEXT, "settings": settings, "summary": rows, **checked},
    )


if __name__ == "__main__":
    main()
