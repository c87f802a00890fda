"""Benchmark: how long after a mutation's HTTP response does a subscriber hear of it?

One idle replica (`arbiter serve`, embedded: SQLite file, in-process bus), one
WebSocket subscriber on queueEvents (graphql-transport-ws), N approve mutations
sent one after another. For each, the latency is

    time the subscriber received the DECIDED event - time the HTTP response arrived

both taken with time.perf_counter() in this process. The event is published
after commit by a background task, so it usually arrives after the response;
when it arrives first the difference is negative, and is kept as it is.
Each mutation waits for its event (or a timeout) before the next is sent.

    .venv/bin/python bench/subscription_latency.py [--count 200] [--warmup 10]

Everything runs on 127.0.0.1 in a temporary directory; the server is stopped at
the end. Results: a table on stdout and bench/results/subscription_latency.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import platform
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: bench/ is not a package
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from bench import common

NAME = "subscription_latency"
WORKFLOW = "bench"
EVENT_TIMEOUT = 5.0
OVERALL_TIMEOUT = 300.0

SUBSCRIBE = """subscription($wf: String!) {
  queueEvents(workflow: $wf) { id kind recommendation { id status } }
}"""
SUBMIT = """mutation($wf: String!, $items: [RecommendationInput!]!) {
  submitRecommendations(workflow: $wf, items: $items) {
    __typename ... on SubmitSuccess { recommendations { id tier } } ... on Problem { message }
  }
}"""
APPROVE = "mutation($id: ID!) { approve(id: $id) { __typename ... on Problem { message } } }"
CREATE_WORKFLOW = """mutation { createWorkflow(input: {key: "bench", name: "Benchmark",
  kind: CLASSIFICATION, reviewerRole: EXPERT, actions: ["A", "B"]}) { __typename } }"""


@dataclass
class Receiver:
    """Reads the subscription; stamps each event the moment it is read off the socket."""

    ws: ClientConnection
    received: dict[tuple[str, str], float] = field(default_factory=dict)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        async for raw in self.ws:
            at = time.perf_counter()
            message = json.loads(raw)
            if message.get("type") != "next":
                continue
            event = message["payload"]["data"]["queueEvents"]
            self.received[(event["kind"], event["recommendation"]["id"])] = at
            self.arrived.set()

    async def wait_for(self, kind: str, item: str) -> float | None:
        try:
            async with asyncio.timeout(EVENT_TIMEOUT):
                while (kind, item) not in self.received:
                    self.arrived.clear()
                    await self.arrived.wait()
        except TimeoutError:
            return None
        return self.received[(kind, item)]


async def subscribe(ws_url: str, token: str) -> ClientConnection:
    ws = await connect(ws_url, subprotocols=[Subprotocol("graphql-transport-ws")], proxy=None)
    init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
    await ws.send(json.dumps(init))
    ack = json.loads(await asyncio.wait_for(ws.recv(), 10))
    if ack.get("type") != "connection_ack":
        raise RuntimeError(f"no connection_ack: {ack}")
    payload = {"query": SUBSCRIBE, "variables": {"wf": WORKFLOW}}
    await ws.send(json.dumps({"type": "subscribe", "id": "bench", "payload": payload}))
    return ws


async def measure(base: str, token: str, process: Any, count: int, warmup: int) -> dict[str, Any]:
    graphql_url = f"{base}/graphql"
    ws_url = graphql_url.replace("http://", "ws://", 1)
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(timeout=10, trust_env=False, limits=limits) as http:
        await common.wait_until_healthy(http, base, process)
        await common.graphql(http, graphql_url, token, CREATE_WORKFLOW, {})
        ws = await subscribe(ws_url, token)
        receiver = Receiver(ws)
        reading = asyncio.create_task(receiver.run())
        try:
            total = warmup + count
            items_spec = [
                {"payload": {"n": n}, "proposedAction": "A", "confidence": 0.8}
                for n in range(total)
            ]
            # The subscription is live once it hears the first submission's events.
            submitted = await common.graphql(
                http, graphql_url, token, SUBMIT, {"wf": WORKFLOW, "items": items_spec}
            )
            items = [r["id"] for r in submitted["submitRecommendations"]["recommendations"]]
            if len(items) != total:
                raise RuntimeError(f"submitted {len(items)} of {total}: {submitted}")
            if await receiver.wait_for("ADDED", items[-1]) is None:
                raise RuntimeError("the subscriber did not hear the submissions")

            latencies: list[float] = []
            round_trips: list[float] = []
            start_to_receipt: list[float] = []
            missed = 0
            for index, item in enumerate(items):
                sent = time.perf_counter()
                result = await common.graphql(http, graphql_url, token, APPROVE, {"id": item})
                answered = time.perf_counter()
                if result["approve"]["__typename"] != "DecisionSuccess":
                    raise RuntimeError(f"approve failed: {result}")
                heard = await receiver.wait_for("DECIDED", item)
                if index < warmup:
                    continue
                if heard is None:
                    missed += 1
                    continue
                latencies.append((heard - answered) * 1000)
                round_trips.append((answered - sent) * 1000)
                start_to_receipt.append((heard - sent) * 1000)
        finally:
            reading.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reading
            await ws.close()
    if not latencies:
        raise RuntimeError("no event was received in time")
    return {
        "latency_ms": common.summary(latencies),
        "events_before_response": sum(1 for v in latencies if v < 0),
        "missed": missed,
        "http_round_trip_ms": common.summary(round_trips),
        "request_start_to_receipt_ms": common.summary(start_to_receipt),
        "samples_ms": [round(v, 3) for v in latencies],
    }


def report(results: dict[str, Any], path: Path) -> None:
    rows = [
        ("response -> event received", results["latency_ms"]),
        ("mutation HTTP round trip", results["http_round_trip_ms"]),
        ("request sent -> event received", results["request_start_to_receipt_ms"]),
    ]
    print(
        f"\nsubscription latency: {results['measured']} approve mutations, one idle replica "
        f"(SQLite, in-process bus), {results['warmup']} warm-up not counted"
    )
    print(f"{'ms':<32}{'median':>9}{'p95':>9}{'p99':>9}{'min':>9}{'max':>9}")
    for label, s in rows:
        print(
            f"{label:<32}{s['median']:>9.2f}{s['p95']:>9.2f}{s['p99']:>9.2f}"
            f"{s['min']:>9.2f}{s['max']:>9.2f}"
        )
    print(
        f"events that arrived before their response: {results['events_before_response']}; "
        f"missed (none within {EVENT_TIMEOUT:.0f}s): {results['missed']}"
    )
    print(f"written to {path.relative_to(common.ROOT)}")


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200, help="measured mutations")
    parser.add_argument("--warmup", type=int, default=10, help="mutations sent first, not counted")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="arbiter-bench-") as tmp:
        database_url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        env = common.server_env(database_url)
        token = await asyncio.to_thread(common.create_admin, env)
        port = common.free_port()
        base = f"http://{common.HOST}:{port}"
        log_path = Path(tmp) / "serve.log"
        with common.running_server(env, port, log_path) as process:
            try:
                async with asyncio.timeout(OVERALL_TIMEOUT):
                    measured = await measure(base, token, process, args.count, args.warmup)
            except BaseException:
                sys.stderr.write(log_path.read_text(errors="replace")[-4000:])
                raise
    results = {
        "setup": {
            "replicas": 1,
            "database": "sqlite",
            "bus": "in-process",
            "protocol": "graphql-transport-ws",
            "client": "websockets + httpx (keep-alive), same host",
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "measured": len(measured["samples_ms"]),
        "warmup": args.warmup,
        **measured,
    }
    path = common.save_result(NAME, results)
    report(results, path)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
