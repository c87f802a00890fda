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
WebSocket app on uvicorn (this file, `_baseline`) speaks just enough
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
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: bench/ is not a package
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from bench.common import (
    HOST,
    ROOT,
    create_admin,
    free_port,
    graphql,
    machine_info,
    percentile,
    running_server,
    save_result,
    scratch_postgres,
    scratch_redis,
    server_env,
    stop_process,
    wait_until_healthy,
)

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
EVENT_TIMEOUT = 20.0
BURST_TIMEOUT = 180.0
GAP = 0.05
BURST_CONCURRENCY = 4
WARMUP = 3
SUB_ID = "s"
CONNECT_CONCURRENCY = 32
CLIENT_SPEC = "BENCH_FANOUT_CLIENT"

SUBSCRIBE = """subscription($wf: String!) {
  queueEvents(workflow: $wf) {
    id kind at previousTier
    recommendation { id status tier version confidence proposedAction }
  }
}"""
SUBMIT = """mutation($wf: String!, $items: [RecommendationInput!]!) {
  submitRecommendations(workflow: $wf, items: $items) {
    __typename ... on SubmitSuccess { recommendations { id } } ... on Problem { message }
  }
}"""
APPROVE = """mutation($id: ID!) { approve(id: $id) {
  __typename ... on DecisionSuccess { decision { createdAt } } ... on Problem { message } } }"""
CREATE_WORKFLOW = """mutation($key: String!) { createWorkflow(input: {key: $key, name: $key,
  kind: CLASSIFICATION, reviewerRole: EXPERT, actions: ["A", "B"]}) { __typename } }"""

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def iso_ns(value: str) -> int:
    """An ISO-8601 timestamp as integer nanoseconds since the epoch (exact to the µs)."""
    return ((datetime.fromisoformat(value) - EPOCH) // MICROSECOND) * 1000


# ---------------------------------------------------------------- client process


async def client_main(spec: dict[str, Any]) -> None:
    """Hold connections to each target; report on stdout; obey stdin.

    stdout lines: `ready <target> <ok> <failed>`, `done <key>` once every
    connection of this process to the key's target got the event, `dumped`.
    stdin lines: `dump <path>` (write the receipts as JSON), `quit`.
    """
    from websockets.asyncio.client import ClientConnection, connect
    from websockets.exceptions import ConnectionClosed
    from websockets.typing import Subprotocol

    def emit(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    latencies: dict[str, list[int]] = {}
    t0s: dict[str, int] = {}
    expected: dict[str, int] = {}
    received_bytes: dict[str, int] = {}
    received: dict[str, int] = {}
    errors: list[str] = []
    samples: dict[str, str] = {}
    closed = [0]
    sockets: list[ClientConnection] = []
    readers: list[asyncio.Task[None]] = []

    def on_message(target: str, raw: str | bytes, now: int, ws: ClientConnection) -> None:
        message = json.loads(raw)
        kind = message.get("type")
        if kind == "next":
            received_bytes[target] += len(raw)
            samples.setdefault(target, str(raw))
            received[target] += 1
            payload = message["payload"]
            if payload.get("errors"):
                errors.append(json.dumps(payload["errors"])[:300])
                return
            event = payload["data"]["queueEvents"]
            key = f"{target}:{event['recommendation']['id']}:{event['kind']}"
            t0 = t0s.get(key)
            if t0 is None:
                t0 = t0s[key] = iso_ns(event["at"])
            got = latencies.setdefault(key, [])
            got.append(now - t0)
            if len(got) == expected[target]:
                emit(f"done {key}")
        elif kind == "ping":
            readers.append(asyncio.ensure_future(ws.send('{"type":"pong"}')))
        elif kind in ("error", "complete"):
            errors.append(str(raw)[:300])

    async def read(target: str, ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                on_message(target, raw, time.time_ns(), ws)
        except ConnectionClosed:
            pass
        closed[0] += 1

    async def open_one(target: dict[str, Any], gate: asyncio.Semaphore) -> bool:
        async with gate:
            try:
                ws = await connect(
                    target["url"],
                    subprotocols=[Subprotocol("graphql-transport-ws")],
                    proxy=None,
                    ping_interval=None,
                    open_timeout=60,
                    compression=spec.get("compression"),
                    max_queue=None,
                )
                init: dict[str, Any] = {"type": "connection_init", "payload": {}}
                if target.get("token"):
                    init["payload"] = {"Authorization": f"Bearer {target['token']}"}
                await ws.send(json.dumps(init))
                ack = json.loads(await asyncio.wait_for(ws.recv(), 60))
                if ack.get("type") != "connection_ack":
                    raise RuntimeError(f"no connection_ack: {ack}")
                payload = {"query": SUBSCRIBE, "variables": target.get("variables", {})}
                await ws.send(json.dumps({"type": "subscribe", "id": SUB_ID, "payload": payload}))
            except Exception as error:
                errors.append(f"connect: {type(error).__name__}: {error}"[:300])
                return False
            sockets.append(ws)
            readers.append(asyncio.create_task(read(target["name"], ws)))
            return True

    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    for target in spec["targets"]:
        name = target["name"]
        received_bytes[name] = received[name] = 0
        expected[name] = 1 << 30  # no `done` before all are connected
        results = await asyncio.gather(*(open_one(target, gate) for _ in range(target["n"])))
        expected[name] = ok = sum(results)
        for error in errors[:3]:
            emit(f"error {error}")
        emit(f"ready {name} {ok} {len(results) - ok}")

    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    while line := (await stdin.readline()).decode().strip():
        command, _, argument = line.partition(" ")
        if command == "dump":
            Path(argument).write_text(
                json.dumps(
                    {
                        "latencies_ns": latencies,
                        "t0_ns": t0s,
                        "connected": expected,
                        "bytes": received_bytes,
                        "messages": received,
                        "errors": errors[:20],
                        "error_count": len(errors),
                        "closed": closed[0],
                        "samples": samples,
                    }
                )
            )
            emit("dumped")
        elif command == "quit":
            break
    for task in readers:
        task.cancel()
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)


# ---------------------------------------------------------------- baseline server


def baseline_app() -> Any:
    """A bare Starlette app: /ws (graphql-transport-ws, minimal) and POST /trigger."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route, WebSocketRoute
    from starlette.websockets import WebSocket, WebSocketDisconnect

    sockets: set[WebSocket] = set()
    tasks: set[asyncio.Task[None]] = set()
    counter = [0]

    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept(subprotocol="graphql-transport-ws")
        try:
            await websocket.receive_text()  # connection_init
            await websocket.send_text('{"type":"connection_ack"}')
            await websocket.receive_text()  # subscribe
            sockets.add(websocket)
            while True:
                await websocket.receive_text()
        except WebSocketDisconnect:
            pass
        finally:
            sockets.discard(websocket)

    async def broadcast(text: str) -> None:
        for websocket in list(sockets):
            try:
                await websocket.send_text(text)
            except Exception:
                sockets.discard(websocket)

    async def trigger(request: Request) -> JSONResponse:
        body = await request.json()
        at = datetime.now(UTC).isoformat()
        counter[0] += 1
        event = {
            "id": f"evt_{counter[0]:032x}",
            "kind": "DECIDED",
            "at": at,
            "previousTier": None,
            "recommendation": {
                "id": body["rec"],
                "status": "APPROVED",
                "tier": "ANALYST_REVIEW",
                "version": 2,
                "confidence": 0.8,
                "proposedAction": "A",
            },
        }
        message = {"id": SUB_ID, "type": "next", "payload": {"data": {"queueEvents": event}}}
        task = asyncio.create_task(broadcast(json.dumps(message, separators=(",", ":"))))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return JSONResponse({"at": at})

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "sockets": len(sockets)})

    return Starlette(
        routes=[
            WebSocketRoute("/ws", endpoint),
            Route("/trigger", trigger, methods=["POST"]),
            Route("/healthz", healthz),
        ]
    )


def baseline_main(port: int) -> None:
    import uvicorn

    uvicorn.run(baseline_app(), host=HOST, port=port, log_level="warning")


# ---------------------------------------------------------------- driver side


@dataclass
class ClientPool:
    """The client processes; collects their `ready`/`done` lines."""

    processes: list[asyncio.subprocess.Process] = field(default_factory=list)
    done: dict[str, int] = field(default_factory=dict)
    ready: dict[str, list[int]] = field(default_factory=dict)
    dumped: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    _readers: list[asyncio.Task[None]] = field(default_factory=list)

    @classmethod
    @contextlib.asynccontextmanager
    async def running(
        cls, targets: list[dict[str, Any]], clients: int, compression: str | None, logs: Path
    ) -> AsyncIterator[ClientPool]:
        pool = cls()
        try:
            for index in range(clients):
                share = [
                    {**t, "n": t["n"] // clients + (1 if index < t["n"] % clients else 0)}
                    for t in targets
                ]
                spec = {"targets": share, "compression": compression}
                log = (logs / f"client-{index}.log").open("wb")
                process = await asyncio.create_subprocess_exec(
                    sys.executable,
                    __file__,
                    "_client",
                    env={**os.environ, CLIENT_SPEC: json.dumps(spec)},  # not in argv: a token
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=log,
                    limit=1 << 20,
                )
                log.close()
                pool.processes.append(process)
                pool._readers.append(asyncio.create_task(pool._read(process)))
            names = [t["name"] for t in targets]
            await pool.wait(lambda: all(len(pool.ready.get(n, [])) == clients for n in names), 300)
            yield pool
        finally:
            await pool.stop()

    async def _read(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        while line := (await process.stdout.readline()).decode().strip():
            word, _, rest = line.partition(" ")
            if word == "done":
                self.done[rest] = self.done.get(rest, 0) + 1
            elif word == "ready":
                name, ok, failed = rest.split()
                self.ready.setdefault(name, []).append(int(ok))
                if int(failed):
                    print(f"  client: {failed} connections to {name} failed", file=sys.stderr)
            elif word == "dumped":
                self.dumped += 1
            elif word == "error":
                print(f"  client: {rest}", file=sys.stderr)
            self.changed.set()
        self.changed.set()

    def connected(self, name: str) -> int:
        return sum(self.ready.get(name, []))

    async def wait(self, condition: Any, timeout: float) -> bool:
        try:
            async with asyncio.timeout(timeout):
                while not condition():
                    if any(p.returncode is not None for p in self.processes):
                        raise RuntimeError("a client process exited early (see its log)")
                    self.changed.clear()
                    await self.changed.wait()
        except TimeoutError:
            return False
        return True

    async def wait_done(self, keys: Iterable[str], timeout: float) -> bool:
        wanted = list(keys)
        clients = len(self.processes)
        return await self.wait(lambda: all(self.done.get(k, 0) >= clients for k in wanted), timeout)

    async def dump(self, directory: Path) -> dict[str, Any]:
        """Every client's receipts, merged."""
        self.dumped = 0
        paths = [directory / f"receipts-{i}.json" for i in range(len(self.processes))]
        for process, path in zip(self.processes, paths, strict=True):
            assert process.stdin is not None
            process.stdin.write(f"dump {path}\n".encode())
            await process.stdin.drain()
        if not await self.wait(lambda: self.dumped == len(self.processes), 120):
            raise RuntimeError("the clients did not write their receipts")
        merged: dict[str, Any] = {
            "latencies_ns": {},
            "t0_ns": {},
            "bytes": {},
            "messages": {},
            "errors": [],
            "error_count": 0,
            "closed": 0,
        }
        for path in paths:
            part = json.loads(path.read_text())
            path.unlink()
            for key, values in part["latencies_ns"].items():
                merged["latencies_ns"].setdefault(key, []).extend(values)
            merged["t0_ns"].update(part["t0_ns"])
            for name in ("bytes", "messages"):
                for target, value in part[name].items():
                    merged[name][target] = merged[name].get(target, 0) + value
            merged["errors"].extend(part["errors"])
            merged["error_count"] += part["error_count"]
            merged["closed"] += part["closed"]
            merged["samples"] = part["samples"]
        return merged

    async def stop(self) -> None:
        for process in self.processes:
            if process.returncode is None and process.stdin is not None:
                with contextlib.suppress(Exception):
                    process.stdin.write(b"quit\n")
                    await process.stdin.drain()
        for process in self.processes:
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
                await process.wait()
        for task in self._readers:
            task.cancel()


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


@dataclass
class Phase:
    """The events of one row: their keys and their mutations' timings."""

    scenario: str
    target: str  # key prefix: "arbiter" or "baseline"
    keys: list[str] = field(default_factory=list)
    response_after_stamp_ms: list[float] = field(default_factory=list)
    missed: int = 0
    wall_s: float = 0.0


def fake_ids(n: int) -> list[str]:
    """Item ids for the baseline, as long as the arbiter's."""
    return [f"rec_{uuid.uuid4().hex}" for _ in range(n)]


def key_of(target: Target, item: str) -> str:
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


def figures(phase: Phase, receipts: dict[str, Any], subscribers: int) -> dict[str, Any]:
    """The row's numbers from the merged receipts."""
    pairs: list[float] = []
    last: list[float] = []
    first: list[float] = []
    first_t0: int | None = None
    last_receipt: int | None = None
    for key in phase.keys:
        values = receipts["latencies_ns"].get(key, [])
        if not values:
            continue
        pairs.extend(v / 1e6 for v in values)
        last.append(max(values) / 1e6)
        first.append(min(values) / 1e6)
        t0 = receipts["t0_ns"][key]
        first_t0 = t0 if first_t0 is None else min(first_t0, t0)
        end = t0 + max(values)
        last_receipt = end if last_receipt is None else max(last_receipt, end)
    expected = len(phase.keys) * subscribers
    row: dict[str, Any] = {
        "events": len(phase.keys),
        "deliveries": len(pairs),
        "deliveries_missing": expected - len(pairs),
        "events_not_fully_delivered": phase.missed,
    }
    if not pairs:
        return row
    row.update(
        p50_ms=percentile(pairs, 0.50),
        p99_ms=percentile(pairs, 0.99),
        max_ms=max(pairs),
        last_subscriber_p50_ms=percentile(last, 0.50),
        last_subscriber_p99_ms=percentile(last, 0.99),
        stamp_to_response_p50_ms=statistics.median(phase.response_after_stamp_ms),
        events_per_s=len(phase.keys) / phase.wall_s if phase.wall_s else None,
    )
    row["per_event_last_ms"] = [round(v, 1) for v in last]
    row["per_event_first_ms"] = [round(v, 1) for v in first]
    row["per_event_stamp_to_response_ms"] = [round(v, 1) for v in phase.response_after_stamp_ms]
    if phase.scenario == "burst" and first_t0 is not None and last_receipt is not None:
        span = (last_receipt - first_t0) / 1e9
        row["burst_span_s"] = span
        row["deliveries_per_s"] = len(pairs) / span
    return row


async def create_items(http: httpx.AsyncClient, url: str, token: str, wf: str, n: int) -> list[str]:
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


@contextlib.contextmanager
def baseline_server(port: int, log_path: Path) -> Any:
    import subprocess

    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, __file__, "_baseline", str(port)], stdout=log, stderr=subprocess.STDOUT
        )
        try:
            yield process
        finally:
            stop_process(process)


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


def make_rows(
    backend: str,
    bus: str,
    pairs: Sequence[tuple[Phase, Phase]],
    receipts: dict[str, Any],
    subscribers: int,
    connect_s: float,
) -> list[dict[str, Any]]:
    rows = []
    messages = receipts["messages"]
    sizes = {t: receipts["bytes"][t] / messages[t] if messages.get(t) else None for t in messages}
    for arbiter_phase, baseline_phase in pairs:
        mine = figures(arbiter_phase, receipts, subscribers)
        base = figures(baseline_phase, receipts, subscribers)
        row: dict[str, Any] = {
            "backend": backend,
            "bus": bus,
            "scenario": arbiter_phase.scenario,
            "subscribers": subscribers,
            **mine,
            "baseline_p50_ms": base.get("p50_ms"),
            "baseline_p99_ms": base.get("p99_ms"),
            "baseline_max_ms": base.get("max_ms"),
            "baseline_last_subscriber_p50_ms": base.get("last_subscriber_p50_ms"),
            "baseline_last_subscriber_p99_ms": base.get("last_subscriber_p99_ms"),
            "baseline_deliveries_per_s": base.get("deliveries_per_s"),
            "baseline_deliveries_missing": base.get("deliveries_missing"),
            "baseline_per_event_last_ms": base.get("per_event_last_ms"),
            "baseline_per_event_first_ms": base.get("per_event_first_ms"),
            "message_bytes": sizes.get("arbiter"),
            "baseline_message_bytes": sizes.get("baseline"),
            "connect_s": connect_s,
            "client_errors": receipts["error_count"],
            "client_error_samples": receipts["errors"][:3],
            "message_samples": receipts.get("samples"),
        }
        if mine.get("p50_ms") and base.get("p50_ms"):
            row["ratio_p50"] = mine["p50_ms"] / base["p50_ms"]
            row["ratio_p99"] = mine["p99_ms"] / base["p99_ms"]
        rows.append(row)
    return rows


TARGET = "ratio_p50 <= 10 and ratio_p99 <= 10 (fan-out within 10x its bare minimum)"
NUMERIC = (
    "p50_ms",
    "p99_ms",
    "max_ms",
    "last_subscriber_p50_ms",
    "last_subscriber_p99_ms",
    "baseline_p50_ms",
    "baseline_p99_ms",
    "baseline_max_ms",
    "baseline_last_subscriber_p50_ms",
    "baseline_last_subscriber_p99_ms",
    "ratio_p50",
    "ratio_p99",
    "deliveries_per_s",
    "baseline_deliveries_per_s",
    "stamp_to_response_p50_ms",
    "events_per_s",
)


def combine(runs: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Median of each figure over the repetitions, row by row; the spread beside it."""
    summary = []
    for index, first in enumerate(runs[0]):
        group = [run[index] for run in runs]
        row = {k: v for k, v in first.items() if not k.startswith(("per_event", "baseline_per"))}
        row["repetitions"] = len(group)
        for name in NUMERIC:
            values = [r[name] for r in group if r.get(name) is not None]
            if values:
                row[name] = statistics.median(values)
                if len(values) > 1:
                    row[f"{name}_range"] = [min(values), max(values)]
        for name in ("deliveries_missing", "events_not_fully_delivered", "client_errors"):
            row[name] = sum(r.get(name) or 0 for r in group)
        row["target"] = TARGET
        ratios = (row.get("ratio_p50"), row.get("ratio_p99"))
        row["target_met"] = None if None in ratios else all(r <= 10 for r in ratios if r)
        summary.append(row)
    # What crossing replicas adds: redis rows minus the same backend's in-process paced row.
    for row in summary:
        if row["bus"] != "redis":
            continue
        reference = next(
            (
                r
                for r in summary
                if r["backend"] == row["backend"]
                and r["bus"] == "in-process"
                and r["scenario"] == "paced"
            ),
            None,
        )
        if reference and "p50_ms" in row and "p50_ms" in reference:
            row["added_vs_in_process_p50_ms"] = row["p50_ms"] - reference["p50_ms"]
            row["added_vs_in_process_p99_ms"] = row["p99_ms"] - reference["p99_ms"]
    for row in summary:
        if row["scenario"] == "redis-cross":
            same = next(
                (r for r in summary if r["scenario"] == "redis-same" and r["bus"] == "redis"),
                None,
            )
            if same and "p50_ms" in row and "p50_ms" in same:
                row["added_vs_same_replica_p50_ms"] = row["p50_ms"] - same["p50_ms"]
                row["added_vs_same_replica_p99_ms"] = row["p99_ms"] - same["p99_ms"]
    return summary


def fmt(value: Any, width: int = 8, digits: int = 1) -> str:
    if value is None:
        return f"{'-':>{width}}"
    if isinstance(value, float):
        return f"{value:>{width}.{digits}f}"
    return f"{value!s:>{width}}"


def report(results: dict[str, Any], path: Path) -> None:
    setup = results["setup"]
    print(
        f"\nfan-out: {setup['subscribers']} graphql-transport-ws subscribers, "
        f"{setup['events']} paced + {setup['burst']} burst events, "
        f"{setup['clients']} client processes, {setup['repetitions']} repetition(s) (medians)"
    )
    print("latency = receipt at a subscriber - the event's `at` stamp (ms); last = per event, ")
    print("the last subscriber's; bl = bare Starlette/uvicorn broadcast baseline, same run")
    header = (
        f"{'backend':<11}{'scenario':<12}{'p50':>8}{'p99':>8}{'max':>8}{'last50':>8}"
        f"{'last99':>8}{'bl p50':>8}{'bl p99':>8}{'x p50':>7}{'x p99':>7}{'deliv/s':>9}"
        f"{'bl/s':>9}{'miss':>6}"
    )
    print(header)
    for row in results["summary"]:
        print(
            f"{row['backend']:<11}{row['scenario']:<12}"
            f"{fmt(row.get('p50_ms'))}{fmt(row.get('p99_ms'))}{fmt(row.get('max_ms'))}"
            f"{fmt(row.get('last_subscriber_p50_ms'))}{fmt(row.get('last_subscriber_p99_ms'))}"
            f"{fmt(row.get('baseline_p50_ms'))}{fmt(row.get('baseline_p99_ms'))}"
            f"{fmt(row.get('ratio_p50'), 7)}{fmt(row.get('ratio_p99'), 7)}"
            f"{fmt(row.get('deliveries_per_s'), 9, 0)}"
            f"{fmt(row.get('baseline_deliveries_per_s'), 9, 0)}"
            f"{fmt(row.get('deliveries_missing'), 6)}"
        )
    for row in results["summary"]:
        if "added_vs_in_process_p50_ms" in row:
            extra = ""
            if "added_vs_same_replica_p50_ms" in row:
                extra = (
                    f"; vs redis-same: +{row['added_vs_same_replica_p50_ms']:.1f} / "
                    f"+{row['added_vs_same_replica_p99_ms']:.1f}"
                )
            print(
                f"{row['backend']} {row['scenario']}: added vs in-process p50/p99 "
                f"+{row['added_vs_in_process_p50_ms']:.1f} / "
                f"+{row['added_vs_in_process_p99_ms']:.1f} ms{extra}"
            )
    print(f"written to {path.relative_to(ROOT)}")


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


def entry() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "_client":
        run_loop(client_main(json.loads(os.environ[CLIENT_SPEC])))
        return 0
    if len(sys.argv) > 2 and sys.argv[1] == "_baseline":
        baseline_main(int(sys.argv[2]))
        return 0
    return run_loop(main())


def run_loop(coroutine: Any) -> Any:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


if __name__ == "__main__":
    sys.exit(entry())
