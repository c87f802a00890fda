"""The subscribers of bench/fanout.py: client processes that each hold their share of the
graphql-transport-ws connections (to the arbiter and to the baseline) and stamp every
message the moment it is read off the socket, and the pool that drives them.

A client process is this file run with its spec in the environment (CLIENT_SPEC: not
in argv, it holds a token); it talks to the pool over stdin and stdout.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

SUB_ID = "s"
CONNECT_CONCURRENCY = 32
CLIENT_SPEC = "BENCH_FANOUT_CLIENT"
SUBSCRIBE = """subscription($wf: String!) {
  queueEvents(workflow: $wf) {
    id kind at previousTier
    recommendation { id status tier version confidence proposedAction }
  }
}"""
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def iso_ns(value: str) -> int:
    """An ISO-8601 timestamp as integer nanoseconds since the epoch (exact to the µs)."""
    return ((datetime.fromisoformat(value) - EPOCH) // MICROSECOND) * 1000


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


def run_loop(coroutine: Any) -> Any:
    """Run `coroutine` on uvloop when it is installed, else on asyncio's loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


if __name__ == "__main__":
    run_loop(client_main(json.loads(os.environ[CLIENT_SPEC])))
