"""What the HTTP benchmarks share: scratch databases, servers as processes, rounds, the
command line and the results.

Every server (Arbiter's `arbiter serve` or a bare baseline) runs as its own
process on 127.0.0.1, started the same way (uvicorn, one process, no access
log), and wrk (bench/wrk.py), a separate process too, sends the load for a
bounded time. Arbiter and its baseline are measured in alternating rounds in one
run, so a noisy neighbour on this shared machine hits both alike; figures are
medians over the rounds and every result is reported as a ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx

from bench.common import (
    HOST,
    ROOT,
    free_port,
    machine_info,
    save_result,
    scratch_postgres,
    stop_process,
)
from bench.wrk import WrkRun, wrk, wrk_version

ARBITER = str(Path(sys.executable).with_name("arbiter"))
BACKENDS = ("sqlite", "postgresql")
Row = dict[str, Any]


def machine() -> dict[str, Any]:
    """The machine, its load, and the versions a figure was measured with."""
    versions = {}
    for package in ("strawberry-graphql", "starlette", "uvicorn", "sqlalchemy", "asyncpg"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[package] = metadata.version(package)
    return {**machine_info(), "wrk": wrk_version(), **versions}


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
    """A started server process: its name, base URL and log file."""

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
        stop_process(process, grace=10)
        log.unlink(missing_ok=True)


_LOG_KEY: Path | None = None


def log_key() -> Path:
    """A log signing key for this benchmark run (so that checkpoints are signed, as in
    production), made once in a temporary folder."""
    global _LOG_KEY
    if _LOG_KEY is None:
        from store.log_keys import create_key_file

        _LOG_KEY = Path(tempfile.mkdtemp(prefix="arbiter-bench-key-")) / "log-signing.key"
        create_key_file(_LOG_KEY)
    return _LOG_KEY


BENCH_REDIS_URL = os.environ.get("ARBITER_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
"""The bus of `arbiter serve --workers N` (N > 1), whose processes must hear each other."""


def arbiter(
    database_url: str, workers: int = 1, **settings: Any
) -> contextlib.AbstractContextManager[Server]:
    """`arbiter serve` with ARBITER_* settings (and a log signing key); with `workers`
    processes behind its port (and then BENCH_REDIS_URL as their bus)."""
    port = free_port()
    env = {
        "ARBITER_DATABASE_URL": database_url,
        "ARBITER_GRAPHIQL": "false",
        "ARBITER_LOG_SIGNING_KEY_FILE": str(log_key()),
    }
    command = [ARBITER, "serve", "--port", str(port)]
    if workers > 1:
        env["ARBITER_REDIS_URL"] = BENCH_REDIS_URL
        command += ["--workers", str(workers)]
    env.update({f"ARBITER_{k.upper()}": str(v) for k, v in settings.items()})
    return server("arbiter", command, env, port)


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


# ---------------------------------------------------------------- rounds


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


def against_bare(
    rounds: int,
    database_url: str,
    bare: str,
    load: Callable[[str, Server], WrkRun],
    token_cache_seconds: int = 30,
    workers: int = 1,
) -> dict[str, list[WrkRun]]:
    """`alternate` between `arbiter serve` ("arbiter", with `workers` processes) and the
    bare endpoint bench/baselines/<bare>.py ("bare", one process) on one database, with
    the same token cache."""
    return alternate(
        rounds,
        {
            "arbiter": partial(
                arbiter, database_url, workers, token_cache_seconds=token_cache_seconds
            ),
            "bare": partial(
                baseline, bare, database_url, "--token-cache-seconds", str(token_cache_seconds)
            ),
        },
        load,
    )


def median_of(values: list[float]) -> float:
    """The median, or NaN for no values."""
    return float(statistics.median(values)) if values else float("nan")


def latency_medians(
    runs: list[WrkRun], prefix: str, quantiles: Sequence[str] = ("p50", "p99")
) -> dict[str, float]:
    """`<prefix>_p50_ms`, `<prefix>_p99_ms`: each latency quantile's median over the runs."""
    return {f"{prefix}_{q}_ms": median_of([r.latency_ms[q] for r in runs]) for q in quantiles}


# ---------------------------------------------------------------- the command line


def arguments(doc: str, **defaults: float) -> argparse.ArgumentParser:
    """The command line of an HTTP benchmark: the first line of its docstring, then
    --backend (sqlite, postgresql or all), --rounds (3), --seconds (8) and one option per
    keyword (`items_per_run=8000` is `--items-per-run`, an int defaulting to 8000)."""
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("--backend", choices=[*BACKENDS, "all"], default="all")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=8)
    for name, default in defaults.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(default), default=default)
    return parser


def options(args: argparse.Namespace, *names: str) -> dict[str, Any]:
    """The values of the command line's `names`, for a result's settings."""
    return {name: getattr(args, name) for name in names}


async def _each_backend(
    args: argparse.Namespace, measure: Callable[[str, argparse.Namespace], Awaitable[list[Row]]]
) -> list[Row]:
    rows: list[Row] = []
    for backend in BACKENDS if args.backend == "all" else (args.backend,):
        rows.extend(await measure(backend, args))
    return rows


def main(
    doc: str,
    name: str,
    measure: Callable[[str, argparse.Namespace], Awaitable[list[Row]]],
    columns: str,
    target: str,
    settings: Callable[[argparse.Namespace], dict[str, Any]],
    result_name: Callable[[argparse.Namespace], str] | None = None,
    **defaults: float,
) -> None:
    """An HTTP benchmark from its command line (`arguments(doc, **defaults)`): the rows of
    `measure(backend, args)` on the backend asked for, or on each; then `columns` of them
    (names separated by spaces) as a table on stdout, and all of them in
    bench/results/<name>.json beside `target` and `settings(args)`."""
    args = arguments(doc, **defaults).parse_args()
    rows = asyncio.run(_each_backend(args, measure))
    print_table(rows, columns.split())
    name = result_name(args) if result_name is not None else name
    write_result(name, {"target": target, "settings": settings(args), "summary": rows})


# ---------------------------------------------------------------- results


def write_result(name: str, result: dict[str, Any]) -> Path:
    """bench/results/<name>.json, with the machine and the time it was measured."""
    return save_result(name, {"machine": machine(), **result})


def print_table(rows: list[Row], columns: list[str]) -> None:
    """`columns` of `rows` as a plain table, each column as wide as its widest cell."""
    widths = {c: max(len(c), *(len(_cell(r.get(c))) for r in rows)) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns))
    for row in rows:
        print("  ".join(_cell(row.get(c)).ljust(widths[c]) for c in columns))


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    return "" if value is None else str(value)
