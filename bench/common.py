"""Helpers shared by the benchmarks: `arbiter serve` subprocesses, scratch databases, stats.

Everything here runs on 127.0.0.1. Servers are child processes stopped on exit
(terminate, then kill); scratch PostgreSQL databases and Redis databases are
emptied or dropped when their context ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
HOST = "127.0.0.1"
POSTGRES_ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")
"""Where scratch databases are created (a superuser, trust auth; no database name)."""


def free_port() -> int:
    """A TCP port on HOST that is free now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def arbiter_command() -> list[str]:
    """The `arbiter` console script beside this interpreter, else on PATH, else the module."""
    beside = Path(sys.executable).parent / "arbiter"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("arbiter")
    return [found] if found else [sys.executable, "-m", "api.cli"]


def server_env(database_url: str, redis_url: str | None = None, **extra: str) -> dict[str, str]:
    """The environment for `arbiter serve`: this one without ARBITER_*, plus the database,
    Redis when given (else the in-process bus), no SLA sweep, no GraphiQL, and `extra`
    (ARBITER_* names, e.g. ARBITER_DB_POOL_SIZE="20")."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARBITER_")}
    env.update(
        ARBITER_DATABASE_URL=database_url,
        ARBITER_SLA_SWEEP_SECONDS="3600",  # idle: no sweep during the run
        ARBITER_GRAPHIQL="false",
    )
    if redis_url is not None:
        env["ARBITER_REDIS_URL"] = redis_url
    env.update(extra)
    return env


def create_admin(env: dict[str, str], name: str = "bench-admin") -> str:
    """Migrate the database of `env` and create an ADMIN; returns its token."""
    command = arbiter_command()
    subprocess.run([*command, "migrate"], env=env, check=True, capture_output=True, timeout=120)
    created = subprocess.run(
        [*command, "users", "create", name, "--role", "admin"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return created.stdout.strip().splitlines()[-1]


@contextlib.contextmanager
def running_server(env: dict[str, str], port: int, log_path: Path) -> Iterator[Any]:
    """`arbiter serve` on HOST:port, its output in log_path; stopped on exit."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*arbiter_command(), "serve", "--host", HOST, "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield process
        finally:
            stop_process(process)


def stop_process(process: Any, grace: float = 15) -> None:
    """Terminate a child process (subprocess.Popen), then kill it if it lingers."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


async def wait_until_healthy(
    http: httpx.AsyncClient, base: str, process: Any, path: str = "/healthz"
) -> None:
    """Until `base` answers 200 at `path` (30 s at most); raises if `process` exits first."""
    async with asyncio.timeout(30):
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited early ({process.returncode})")
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(f"{base}{path}")).status_code == 200:
                    return
            await asyncio.sleep(0.1)


async def graphql(
    http: httpx.AsyncClient, url: str, token: str, query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    """One GraphQL operation over HTTP; returns `data`; raises on a non-200 or errors."""
    response = await http.post(
        url,
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )
    body = response.json()
    if response.status_code != 200 or body.get("errors"):
        raise RuntimeError(f"GraphQL request failed ({response.status_code}): {body}")
    return dict(body["data"])


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1) of a non-empty sequence."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q * len(ordered) + 0.5) - 1))]


def summary(values: Sequence[float]) -> dict[str, float]:
    """median, p95, p99 (nearest rank), min, max, mean."""
    ordered = sorted(values)
    return {
        "median": statistics.median(ordered),
        "p95": percentile(ordered, 0.95),
        "p99": percentile(ordered, 0.99),
        "min": ordered[0],
        "max": ordered[-1],
        "mean": statistics.fmean(ordered),
    }


def machine_info() -> dict[str, Any]:
    """What the figures were measured on, with the load at the time (the host is shared)."""
    cpu = platform.processor() or ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_at_start": list(os.getloadavg()),
    }


async def recreate_database(name: str) -> None:
    """Drop PostgreSQL database `name` if it is left over, then create it empty."""
    import asyncpg

    admin = await asyncpg.connect(f"{POSTGRES_ADMIN_URL}/postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


async def drop_database(name: str) -> None:
    """Drop PostgreSQL database `name` (if it exists), whoever is still connected."""
    import asyncpg

    admin = await asyncpg.connect(f"{POSTGRES_ADMIN_URL}/postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def postgres_url(name: str) -> str:
    """The SQLAlchemy URL (postgresql+asyncpg://...) of scratch database `name`."""
    return f"{POSTGRES_ADMIN_URL.replace('postgresql://', 'postgresql+asyncpg://', 1)}/{name}"


@contextlib.asynccontextmanager
async def scratch_postgres(name: str) -> AsyncIterator[str]:
    """A new empty PostgreSQL database `name` (dropped first if left over, and at the end);
    yields its SQLAlchemy URL (postgresql+asyncpg://...)."""
    await recreate_database(name)
    try:
        yield postgres_url(name)
    finally:
        await drop_database(name)


@contextlib.asynccontextmanager
async def scratch_redis(url: str) -> AsyncIterator[str]:
    """A Redis database (e.g. redis://127.0.0.1:6379/14) flushed before and after.
    Pub/sub channels are not per database: see the caller for what that implies."""
    from redis import asyncio as aioredis

    client = aioredis.from_url(url)
    try:
        await client.flushdb()
        yield url
    finally:
        with contextlib.suppress(Exception):
            await client.flushdb()
        await client.aclose()


def save_result(name: str, fields: dict[str, Any], stamp: str = "recorded_at") -> Path:
    """bench/results/<name>.json: `{"benchmark": name, <stamp>: now (UTC), **fields}`,
    indented by two, ending in a newline; returns its path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    document = {"benchmark": name, stamp: datetime.now(UTC).isoformat(timespec="seconds"), **fields}
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path
