"""Benchmark: fan-out of one queue event to 1,000 graphql-transport-ws subscribers.

What is measured. Every event carries `at`, the time the change was stamped by
the use case inside the transaction that commits it (domain `now`, UTC with
microseconds, CLOCK_REALTIME of the server process). Each subscriber stamps
time.time_ns() (the same clock: every process is on this host) the moment its
reader task gets the message off the socket, before parsing it. So

    latency(event, subscriber) = receipt time at that subscriber - event.at

which is commit-to-receipt plus the rest of the transaction after `at` (an
upper bound of commit-to-receipt; the table's "stamp->response" column is the
mutation's own time after `at`, which bounds that extra from above). Per
scenario the figures are, over all (event x subscriber) pairs: p50, p99, max;
and per event the time until its LAST subscriber got it: p50, p99.

Scenarios (rows):
  paced   events one at a time: the next mutation is sent only when every
          subscriber got the previous one (or EVENT_TIMEOUT), then a GAP pause;
          the latency of one fan-out on an otherwise idle server.
  burst   --burst approve mutations (default --events) sent at once, 4 in flight
          (BURST_CONCURRENCY), then wait for every delivery; also fan-out
          throughput = deliveries / (last receipt - first `at`).
  redis-same / redis-cross  (PostgreSQL only) two replicas A and B, both with
          ARBITER_REDIS_URL; the subscribers are on A; paced events alternate
          between a mutation sent to A and one sent to B. The in-process row of
          the same backend (one replica, no Redis) is the reference for "added".

Baseline. In the same run and with the same client processes, a bare Starlette
WebSocket app on uvicorn (bench/fanout_baseline.py) speaks just enough
graphql-transport-ws (ack, then accepts one subscribe); POST /trigger stamps
`at`, encodes one message of the same shape (and about the same size) as the
arbiter's, and sends it to every socket in one asyncio loop: the minimum cost
of fan-out in this stack (uvicorn + websockets + the same client). Paced
baseline events are interleaved with the arbiter's (so both see the same
background load of this shared host); bursts run one after the other.
ratio = arbiter / baseline, for p50 and for p99 of the pairs.

Clients: CLIENTS separate processes (default 2, on this 2-core host), each
holding its share of the connections to the arbiter and to the baseline, with
uvloop, the websockets library, permessage-deflate offered as browsers do.

    .venv/bin/python bench/fanout.py [--subscribers 1000] [--events 100]
        [--backend sqlite|postgresql|all] [--quick] [--repeat 1] [--clients 2]

Everything runs on 127.0.0.1 under an overall timeout, in a temporary directory
(SQLite), a scratch PostgreSQL database and Redis database 14 (flushed before
and after); servers and clients are stopped at the end. Results: a table on
stdout and bench/results/fanout.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: bench/ is not a package
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from bench.common import (
    HOST,
    create_admin,
    free_port,
    graphql,
    machine_info,
    running_server,
    save_result,
    scratch_postgres,
    scratch_redis,
    server_env,
    wait_until_healthy,
)
from bench.fanout_baseline import baseline_server
from bench.fanout_figures import Phase, combine, make_rows, report
from bench.fanout_subscribers import SUBSCRIBE, ClientPool, iso_ns, run_loop

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
EVENT_TIMEOUT = 20.0
BURST_TIMEOUT = 180.0
GAP = 0.05
BURST_CONCURRENCY = 4
WARMUP = 3

SUBMIT = """mutation($wf: String!, $items: [RecommendationInput!]!) {
  submitRecommendations(workflow: $wf, items: $items) {
    __typename ... on SubmitSuccess { recommendations { id } } ... on Problem { message }
  }
}"""
APPROVE = """mutation($id: ID!) { approve(id: $id) {
  __typename ... on DecisionSuccess { decision { createdAt } } ... on Problem { message } } }"""
CREATE_WORKFLOW = """mutation($key: String!) { createWorkflow(input: {key: $key, name: $key,
  kind: CLASSIFICATION, reviewerRole: EXPERT, actions: ["A", "B"]}) { __typename } }"""

# ---------------------------------------------------------------- client process


# ---------------------------------------------------------------- baseline server


# ---------------------------------------------------------------- driver side


@dataclass
class Target:
    """Where events come from: the arbiter (approve mutations) or the baseline (trigger)."""

    name: str  # the key prefix in the clients: "arbiter" or "baseline"
    http: httpx.AsyncClient
    url: str
    token: str | None = None

    async def fire(self, item: str) -> tuple[int, int]:
        """Cause the event for `item`; returns (stamp `at`, response time) in ns."""
        if self.token is None:
            response = await self.http.post(self.url, json={"rec": item})
            answered = time.time_ns()
            response.raise_for_status()
            return iso_ns(response.json()["at"]), answered
        result = await graphql(self.http, self.url, self.token, APPROVE, {"id": item})
        answered = time.time_ns()
        outcome = result["approve"]
        if outcome["__typename"] != "DecisionSuccess":
            raise RuntimeError(f"approve failed: {outcome}")
        return iso_ns(outcome["decision"]["createdAt"]), answered


def fake_ids(n: int) -> list[str]:
    """Item ids for the baseline, as long as the arbiter's."""
    return [f"rec_{uuid.uuid4().hex}" for _ in range(n)]


def key_of(target: Target, item: str) -> str:
    """The key under which the subscribers report the DECIDED event of `item`."""
    return f"{target.name}:{item}:DECIDED"


async def fire_paced(
    pool: ClientPool, legs: Sequence[tuple[Target, Phase, list[str]]], timeout: float
) -> None:
    """Round-robin over the legs: one event at a time, each awaited by every subscriber."""
    started = time.perf_counter()
    longest = max(len(items) for _, _, items in legs)
    for index in range(longest):
        for target, phase, items in legs:
            if index >= len(items):
                continue
            at, answered = await target.fire(items[index])
            key = key_of(target, items[index])
            phase.keys.append(key)
            phase.response_after_stamp_ms.append((answered - at) / 1e6)
            if not await pool.wait_done([key], timeout):
                phase.missed += 1
            await asyncio.sleep(GAP)
    for _, phase, _ in legs:
        phase.wall_s = time.perf_counter() - started


async def fire_burst(pool: ClientPool, target: Target, phase: Phase, items: list[str]) -> None:
    """Every mutation at once, BURST_CONCURRENCY in flight; then wait for every delivery."""
    started = time.perf_counter()
    gate = asyncio.Semaphore(BURST_CONCURRENCY)

    async def one(item: str) -> None:
        async with gate:
            at, answered = await target.fire(item)
        phase.response_after_stamp_ms.append((answered - at) / 1e6)

    phase.keys.extend(key_of(target, item) for item in items)
    await asyncio.gather(*(one(item) for item in items))
    if not await pool.wait_done(phase.keys, BURST_TIMEOUT):
        phase.missed = sum(1 for k in phase.keys if pool.done.get(k, 0) < len(pool.processes))
    phase.wall_s = time.perf_counter() - started


async def warm_up(pool: ClientPool, target: Target, items: list[str]) -> None:
    """Until an event reaches every subscriber (all subscriptions are live)."""
    for item in items:
        await target.fire(item)
        if await pool.wait_done([key_of(target, item)], EVENT_TIMEOUT):
            return
    raise RuntimeError(f"{target.name}: no warm-up event reached every subscriber")


async def create_items(http: httpx.AsyncClient, url: str, token: str, wf: str, n: int) -> list[str]:
    """Workflow `wf` with `n` PENDING items (submitted 100 at a time); their ids."""
    data = await graphql(http, url, token, CREATE_WORKFLOW, {"key": wf})
    if data["createWorkflow"]["__typename"] != "WorkflowSuccess":
        raise RuntimeError(f"createWorkflow: {data}")
    ids: list[str] = []
    for start in range(0, n, 100):
        spec = [
            {"payload": {"n": i}, "proposedAction": "A", "confidence": 0.8}
            for i in range(start, min(n, start + 100))
        ]
        done = await graphql(http, url, token, SUBMIT, {"wf": wf, "items": spec})
        ids.extend(r["id"] for r in done["submitRecommendations"]["recommendations"])
    if len(ids) != n:
        raise RuntimeError(f"submitted {len(ids)} of {n}")
    return ids


@dataclass
class Stage:
    """One setup's servers (Arbiter replicas "a" and "b", the baseline), each on a port of
    its own, the HTTP client that drives them and the subscribers' client processes; all
    stopped when `stack` closes."""

    stack: contextlib.AsyncExitStack
    http: httpx.AsyncClient
    logs: Path
    ports: dict[str, int]

    @classmethod
    async def opened(cls, stack: contextlib.AsyncExitStack, logs: Path) -> Stage:
        ports = {"a": free_port(), "b": free_port(), "baseline": free_port()}
        limits = httpx.Limits(max_connections=4, max_keepalive_connections=4)
        http = await stack.enter_async_context(
            httpx.AsyncClient(timeout=60, trust_env=False, limits=limits)
        )
        return cls(stack, http, logs, ports)

    async def arbiter(self, name: str, env: dict[str, str], log: str) -> str:
        """Replica `name` (`arbiter serve`), healthy; its base URL."""
        base = f"http://{HOST}:{self.ports[name]}"
        process = self.stack.enter_context(running_server(env, self.ports[name], self.logs / log))
        await wait_until_healthy(self.http, base, process)
        return base

    async def baseline(self, log: str) -> str:
        """The bare broadcast server, healthy; its base URL."""
        base = f"http://{HOST}:{self.ports['baseline']}"
        process = self.stack.enter_context(baseline_server(self.ports["baseline"], self.logs / log))
        await wait_until_healthy(self.http, base, process)
        return base

    async def subscribers(
        self, label: str, token: str, wf: str, args: argparse.Namespace
    ) -> tuple[ClientPool, float]:
        """`args.subscribers` subscribers to replica "a" (workflow `wf`) and as many to the
        baseline, in `args.clients` processes; the pool and the seconds connecting took."""
        subs = args.subscribers
        targets = [
            {
                "name": "arbiter",
                "url": f"ws://{HOST}:{self.ports['a']}/graphql",
                "token": token,
                "variables": {"wf": wf},
                "n": subs,
            },
            {"name": "baseline", "url": f"ws://{HOST}:{self.ports['baseline']}/ws", "n": subs},
        ]
        compression = None if args.no_compression else "deflate"
        print(f"  [{label}] connecting {subs}+{subs} subscribers ...", flush=True)
        started = time.perf_counter()
        pool = await self.stack.enter_async_context(
            ClientPool.running(targets, args.clients, compression, self.logs)
        )
        return pool, time.perf_counter() - started


async def run_setup(
    backend: str, database_url: str, args: argparse.Namespace, tmp: Path, run: int
) -> list[dict[str, Any]]:
    """One repetition on one backend: start its servers and a baseline, fire every phase."""
    redis = backend == "postgresql"
    n_paced, n_burst, subs = args.events, args.burst, args.subscribers
    per_leg = WARMUP + n_paced + n_burst
    env = server_env(database_url)
    token = await asyncio.to_thread(create_admin, env, f"bench-admin-{run}")
    rows: list[dict[str, Any]] = []
    async with contextlib.AsyncExitStack() as stack:
        stage = await Stage.opened(stack, tmp)
        base_a = await stage.arbiter("a", env, f"serve-a-{run}.log")
        bl_base = await stage.baseline(f"baseline-{run}.log")

        wf = f"fanout-{backend}-{run}"
        items = await create_items(stage.http, f"{base_a}/graphql", token, wf, per_leg * 3)
        legs_items = [items[i * per_leg : (i + 1) * per_leg] for i in range(3)]
        arbiter = Target("arbiter", stage.http, f"{base_a}/graphql", token)
        baseline = Target("baseline", stage.http, f"{bl_base}/trigger")
        pool, connect_s = await stage.subscribers(f"{backend} #{run}", token, wf, args)
        connected = {name: pool.connected(name) for name in ("arbiter", "baseline")}
        if connected["arbiter"] < subs or connected["baseline"] < subs:
            raise RuntimeError(f"only {connected} of {subs} subscribers connected")
        await warm_up(pool, arbiter, legs_items[0][:WARMUP])
        await warm_up(pool, baseline, fake_ids(WARMUP))

        bl_ids = fake_ids(per_leg)
        paced_a = Phase("paced", "arbiter")
        paced_bl = Phase("paced", "baseline")
        legs: list[tuple[Target, Phase, list[str]]] = [
            (arbiter, paced_a, legs_items[0][WARMUP : WARMUP + n_paced]),
            (baseline, paced_bl, bl_ids[:n_paced]),
        ]
        print(f"  [{backend} #{run}] paced: {n_paced} events x 2 (arbiter, baseline)", flush=True)
        await fire_paced(pool, legs, EVENT_TIMEOUT)
        print(f"  [{backend} #{run}] burst: {n_burst} events, then the baseline's", flush=True)
        pairs = [(paced_a, paced_bl)]
        if n_burst:
            burst_a, burst_bl = Phase("burst", "arbiter"), Phase("burst", "baseline")
            await fire_burst(pool, arbiter, burst_a, legs_items[0][WARMUP + n_paced :])
            await fire_burst(pool, baseline, burst_bl, bl_ids[n_paced:])
            pairs.append((burst_a, burst_bl))
        receipts = await pool.dump(tmp)
        rows.extend(make_rows(backend, "in-process", pairs, receipts, subs, connect_s))
    if redis:
        rows.extend(await run_redis(backend, database_url, args, tmp, run))
    return rows


async def run_redis(
    backend: str, database_url: str, args: argparse.Namespace, tmp: Path, run: int
) -> list[dict[str, Any]]:
    """Two replicas A and B with Redis; subscribers on A; paced events alternate A, B, baseline."""
    n_paced, subs = args.events, args.subscribers
    per_leg = WARMUP + n_paced
    async with scratch_redis(REDIS_URL) as redis_url:
        env = server_env(database_url, redis_url)
        token = await asyncio.to_thread(create_admin, env, f"bench-redis-admin-{run}")
        async with contextlib.AsyncExitStack() as stack:
            stage = await Stage.opened(stack, tmp)
            bases = {
                name: await stage.arbiter(name, env, f"serve-redis-{name}-{run}.log")
                for name in ("a", "b")
            }
            bl_base = await stage.baseline(f"baseline-redis-{run}.log")
            wf = f"fanout-redis-{run}"
            http = stage.http
            items = await create_items(http, f"{bases['a']}/graphql", token, wf, per_leg * 2)
            foreign = ForeignCounter(redis_url, items)
            on_a = Target("arbiter", http, f"{bases['a']}/graphql", token)
            on_b = Target("arbiter", http, f"{bases['b']}/graphql", token)
            baseline = Target("baseline", http, f"{bl_base}/trigger")
            pool, connect_s = await stage.subscribers(f"{backend}+redis #{run}", token, wf, args)
            if pool.connected("arbiter") < subs or pool.connected("baseline") < subs:
                raise RuntimeError("not every subscriber connected")
            await warm_up(pool, on_a, items[:WARMUP])
            await warm_up(pool, on_b, items[per_leg : per_leg + WARMUP])
            await warm_up(pool, baseline, fake_ids(WARMUP))
            same, cross, paced_bl = (
                Phase("redis-same", "arbiter"),
                Phase("redis-cross", "arbiter"),
                Phase("redis", "baseline"),
            )
            print(f"  [{backend}+redis #{run}] paced: {n_paced} events x 3 (A, B, baseline)")
            await foreign.start()
            try:
                await fire_paced(
                    pool,
                    [
                        (on_a, same, items[WARMUP:per_leg]),
                        (on_b, cross, items[per_leg + WARMUP :]),
                        (baseline, paced_bl, fake_ids(n_paced)),
                    ],
                    EVENT_TIMEOUT,
                )
            finally:
                await foreign.stop()
            receipts = await pool.dump(tmp)
            rows = make_rows(
                backend, "redis", [(same, paced_bl), (cross, paced_bl)], receipts, subs, connect_s
            )
            for row in rows:
                row["bus_messages_ours"] = foreign.ours
                row["bus_messages_not_ours"] = foreign.others
            return rows


class ForeignCounter:
    """Counts bus messages from other deployments on this Redis server while we measure:
    pub/sub channels are server-wide (not per database), so other deployments' messages
    reach our replicas' subscriptions too (each subscription wakes up and drops them)."""

    def __init__(self, url: str, ours: Iterable[str]) -> None:
        self.url = url
        self.items = set(ours)
        self.ours = 0
        self.others = 0
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        from redis import asyncio as aioredis

        from workers.bus import CHANNEL

        client = aioredis.from_url(self.url)
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(CHANNEL)

        async def count() -> None:
            try:
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    data = json.loads(message["data"]).get("data") or {}
                    if data.get("recommendation_id") in self.items:
                        self.ours += 1
                    else:
                        self.others += 1
            finally:
                await pubsub.aclose()
                await client.aclose()

        self._task = asyncio.create_task(count())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--events", type=int, default=100, help="paced events per row")
    parser.add_argument("--burst", type=int, default=None, help="burst events (default: --events)")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "all"], default="all")
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument("--repeat", type=int, default=1, help="repetitions (medians reported)")
    parser.add_argument("--quick", action="store_true", help="200 subscribers, 20 events")
    parser.add_argument("--no-compression", action="store_true", help="no permessage-deflate")
    parser.add_argument("--timeout", type=float, default=3600, help="overall, seconds")
    args = parser.parse_args()
    if args.quick:
        args.subscribers, args.events = min(args.subscribers, 200), min(args.events, 20)
    args.burst = args.events if args.burst is None else args.burst
    backends = ["sqlite", "postgresql"] if args.backend == "all" else [args.backend]
    machine = machine_info()
    runs: list[list[dict[str, Any]]] = []
    async with asyncio.timeout(args.timeout):
        with tempfile.TemporaryDirectory(prefix="arbiter-fanout-") as name:
            tmp = Path(name)
            try:
                for run in range(args.repeat):
                    rows: list[dict[str, Any]] = []
                    for backend in backends:
                        if backend == "sqlite":
                            url = f"sqlite+aiosqlite:///{tmp / f'fanout-{run}.db'}"
                            rows.extend(await run_setup(backend, url, args, tmp, run))
                        else:
                            async with scratch_postgres(f"bench_fanout_{os.getpid()}") as url:
                                rows.extend(await run_setup(backend, url, args, tmp, run))
                    runs.append(rows)
            except BaseException:
                for log in sorted(tmp.glob("*.log")):
                    text = log.read_text(errors="replace")[-3000:]
                    if text.strip():
                        sys.stderr.write(f"--- {log.name}\n{text}\n")
                raise
    machine["loadavg_at_end"] = list(os.getloadavg())
    results = {
        "machine": machine,
        "setup": {
            "subscribers": args.subscribers,
            "events": args.events,
            "burst": args.burst,
            "clients": args.clients,
            "repetitions": args.repeat,
            "gap_s": GAP,
            "compression": not args.no_compression,
            "protocol": "graphql-transport-ws",
            "subscription": SUBSCRIBE,
            "redis": REDIS_URL,
            "definitions": {
                "latency": "subscriber's time.time_ns() on reading the message - the event's "
                "`at` (stamped by the use case in the committing transaction)",
                "p50_ms/p99_ms/max_ms": "over every (event, subscriber) pair",
                "last_subscriber_*": "per event, the latency of its last subscriber",
                "ratio_*": "arbiter / baseline (bare Starlette broadcast, same run and clients)",
                "deliveries_per_s": "burst: deliveries / (last receipt - first `at`)",
                "stamp_to_response_p50_ms": "mutation response received - `at`: bounds how "
                "much of the latency precedes the commit",
            },
        },
        "summary": combine(runs),
        "runs": runs,
    }
    report(results, save_result("fanout", results))
    return 0


if __name__ == "__main__":
    sys.exit(run_loop(main()))
