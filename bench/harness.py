"""What the HTTP benchmarks share: scratch databases, servers as processes, wrk, results.

Every server (Arbiter's `arbiter serve` or a bare baseline) runs as its own
process on 127.0.0.1, started the same way (uvicorn, one process, no access
log), and wrk, a separate process too, sends the load for a bounded time.
Arbiter and its baseline are measured in alternating rounds in one run, so a
noisy neighbour on this shared machine hits both alike; figures are medians
over the rounds and every result is reported as a ratio.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx

from bench.common import HOST, ROOT, free_port, machine_info, scratch_postgres

RESULTS = ROOT / "bench" / "results"
ARBITER = str(Path(sys.executable).with_name("arbiter"))
BACKENDS = ("sqlite", "postgresql")


def machine() -> dict[str, Any]:
    """The machine, its load, and the versions a figure was measured with."""
    versions = {}
    for package in ("strawberry-graphql", "starlette", "uvicorn", "sqlalchemy", "asyncpg"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[package] = metadata.version(package)
    wrk = shutil.which("wrk")
    return {
        **machine_info(),
        "wrk": subprocess.run([wrk, "-v"], capture_output=True, text=True).stdout.split()[1]
        if wrk
        else None,
        **versions,
    }


def require_wrk() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk is not installed: `apt-get install -y wrk` (Debian's package)")
    return found


# ---------------------------------------------------------------- databases


@contextlib.asynccontextmanager
async def scratch_database(backend: str) -> AsyncIterator[str]:
    """A new, migrated database (SQLite file or PostgreSQL scratch database), dropped after."""
    from api.cli import migrate

    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="arbiter-bench-") as directory:
            url = f"sqlite+aiosqlite:///{directory}/bench.db"
            await asyncio.to_thread(migrate, url)
            yield url
        return
    async with scratch_postgres(f"arbiter_bench_{uuid.uuid4().hex[:10]}") as url:
        await asyncio.to_thread(migrate, url)
        yield url


# ---------------------------------------------------------------- servers


@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def graphql(self) -> str:
        return f"{self.url}/graphql"


@contextlib.contextmanager
def server(name: str, command: list[str], env: dict[str, str], port: int) -> Iterator[Server]:
    """Start a server process; wait until it answers /healthz; stop it at the end."""
    log = Path(tempfile.mkstemp(prefix=f"bench-{name}-", suffix=".log")[1])
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command,
            env={**os.environ, **env},
            cwd=ROOT,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    url = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/healthz", timeout=1, trust_env=False).status_code == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.05)
        yield Server(name, url, process, log)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        log.unlink(missing_ok=True)


def arbiter(database_url: str, **settings: Any) -> contextlib.AbstractContextManager[Server]:
    """`arbiter serve` with ARBITER_* settings."""
    port = free_port()
    env = {"ARBITER_DATABASE_URL": database_url, "ARBITER_GRAPHIQL": "false"}
    env.update({f"ARBITER_{k.upper()}": str(v) for k, v in settings.items()})
    return server("arbiter", [ARBITER, "serve", "--port", str(port)], env, port)


def baseline(
    module: str, database_url: str, *args: str
) -> contextlib.AbstractContextManager[Server]:
    """A bare Starlette app from bench/baselines/, served by bench/baselines/serve.py."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "bench.baselines.serve",
        module,
        "--port",
        str(port),
        "--database-url",
        database_url,
        *args,
    ]
    return server(module, command, {}, port)


# ---------------------------------------------------------------- wrk


@dataclass
class WrkRun:
    requests: int
    seconds: float
    errors: int  # socket errors, timeouts and non-2xx answers
    latency_ms: dict[str, float]
    counters: dict[str, int] = field(default_factory=dict)

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


LUA_DONE = """
local wrk_threads = {}
setup = function(thread)
  table.insert(wrk_threads, thread)
  if bench_setup then bench_setup(thread) end
end

done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    'WRK-JSON {"requests": %d, "micros": %d, "errors": %d, "p50": %d, "p90": %d, '
    .. '"p99": %d, "max": %d, "mean": %.1f}\\n',
    summary.requests, summary.duration, errors, latency:percentile(50),
    latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
  for _, thread in ipairs(wrk_threads) do
    for _, name in ipairs({"ok", "bad"}) do
      local value = thread:get(name)
      if value then io.write(string.format("COUNT %s %d\\n", name, value)) end
    end
  end
end
"""


def wrk(
    url: str,
    script: str,
    *,
    connections: int,
    seconds: float,
    threads: int = 1,
    environment: dict[str, str] | None = None,
) -> WrkRun:
    """Run wrk with a Lua `script` (which sets wrk.method/body/headers or request()).

    The script's own output lines `COUNT name n` are summed into `counters`.
    """
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as file:
        file.write(script + "\n" + LUA_DONE)
        path = file.name
    try:
        completed = subprocess.run(
            [
                require_wrk(),
                f"-t{threads}",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "10s",
                "-s",
                path,
                url,
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            env={**os.environ, **(environment or {})},
        )
    finally:
        os.unlink(path)
    summary: dict[str, Any] | None = None
    counters: dict[str, int] = {}
    for line in completed.stdout.splitlines():
        if line.startswith("WRK-JSON "):
            summary = json.loads(line[len("WRK-JSON ") :])
        elif line.startswith("COUNT "):
            _, name, value = line.split()
            counters[name] = counters.get(name, 0) + int(value)
    if summary is None:
        raise RuntimeError(f"wrk failed:\n{completed.stdout}\n{completed.stderr}")
    return WrkRun(
        requests=summary["requests"],
        seconds=summary["micros"] / 1e6,
        errors=summary["errors"],
        latency_ms={k: summary[k] / 1000 for k in ("p50", "p90", "p99", "max", "mean")},
        counters=counters,
    )


def post_script(token: str, body: str, expect: str) -> str:
    """wrk Lua for one JSON POST, repeated; an answer is `ok` when it is a 200 whose body
    contains `expect`, else `bad` (counted into WrkRun.counters)."""
    return f"""
wrk.method = "POST"
wrk.body = {lua_string(body)}
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {token}"
ok, bad = 0, 0
response = function(status, headers, body)
  if status == 200 and string.find(body, {lua_string(expect)}, 1, true) then
    ok = ok + 1
  else
    bad = bad + 1
  end
end
"""


def steady(
    script: str, connections: int, seconds: float, warm_up_connections: int = 1
) -> Callable[[str, Server], WrkRun]:
    """A `load` for `alternate`: one second of warm-up, then `script` over `connections`
    for `seconds`."""

    def load(_name: str, server: Server) -> WrkRun:
        wrk(server.graphql, script, connections=warm_up_connections, seconds=1)
        return wrk(server.graphql, script, connections=connections, seconds=seconds)

    return load


def alternate(
    rounds: int,
    servers: dict[str, Callable[[], contextlib.AbstractContextManager[Server]]],
    load: Callable[[str, Server], WrkRun],
) -> dict[str, list[WrkRun]]:
    """`load(name, server)` on each of `servers` in turn, `rounds` times (Arbiter, its
    baseline, Arbiter, ...), each server started afresh; a run with any failed or
    refused request fails the benchmark."""
    runs: dict[str, list[WrkRun]] = {name: [] for name in servers}
    for _ in range(rounds):
        for name, start in servers.items():
            with start() as server:
                run = load(name, server)
            if run.errors or run.counters.get("bad", 0):
                raise RuntimeError(
                    f"{name}: {run.errors} failed and {run.counters.get('bad', 0)} refused requests"
                )
            runs[name].append(run)
    return runs


def lua_string(value: str) -> str:
    """A Lua long-bracket string literal holding `value` as it is."""
    level = 0
    while f"]{'=' * level}]" in value:
        level += 1
    return f"[{'=' * level}[{value}]{'=' * level}]"


def median_of(values: list[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


# ---------------------------------------------------------------- results


def write_result(name: str, result: dict[str, Any]) -> Path:
    """bench/results/<name>.json, with the machine and the time it was measured."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    document = {
        "benchmark": name,
        "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        **result,
    }
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path


def print_table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    widths = {c: max(len(c), *(len(_cell(r.get(c))) for r in rows)) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns))
    for row in rows:
        print("  ".join(_cell(row.get(c)).ljust(widths[c]) for c in columns))


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    return "" if value is None else str(value)
