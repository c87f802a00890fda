"""Third-party clients (Node, tests/clients) against `arbiter serve` run as a child process.

Servers run on a fresh SQLite file migrated with `arbiter migrate`, with users made
by `arbiter users create`, exactly as a newcomer following the README would:
`default_server` (one for the session) at the default settings, and whatever a module
needs besides in its own module-scoped fixtures. `node_client` (from
tests/clients_node.py) runs the scripts of tests/clients.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.clients_node import node_client  # noqa: F401 (the session fixture)
from tests.live.conftest import ServerAddress, free_port

ROOT = Path(__file__).resolve().parents[2]
ARBITER = str(Path(sys.executable).with_name("arbiter"))
READY_TIMEOUT = 30.0


def arbiter_env(database_url: str, **settings: Any) -> dict[str, str]:
    """This environment without ARBITER_* settings, plus the database and ARBITER_<NAME>=value."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ARBITER_")}
    env["ARBITER_DATABASE_URL"] = database_url
    env |= {f"ARBITER_{key.upper()}": str(value) for key, value in settings.items()}
    return env


def arbiter(database_url: str, *args: str, **settings: Any) -> subprocess.CompletedProcess[str]:
    """Run `arbiter ARGS` against `database_url` to its end."""
    return subprocess.run(
        [ARBITER, *args],
        env=arbiter_env(database_url, **settings),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def migrated_sqlite(directory: Path) -> str:
    """A fresh SQLite file in `directory`, migrated by `arbiter migrate`."""
    url = f"sqlite+aiosqlite:///{directory / 'arbiter.db'}"
    result = arbiter(url, "migrate")
    assert result.returncode == 0, result.stderr
    return url


def create_token(database_url: str, name: str, role: str) -> str:
    """`arbiter users create NAME --role ROLE`; the bearer token on its last line."""
    result = arbiter(database_url, "users", "create", name, "--role", role)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


@dataclass
class ArbiterServer(ServerAddress):
    url: str  # http://127.0.0.1:PORT
    database_url: str
    process: subprocess.Popen[bytes]
    log: Path

    def stderr(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


@contextlib.contextmanager
def arbiter_serve(database_url: str, log_dir: Path, **settings: Any) -> Iterator[ArbiterServer]:
    """`arbiter serve --port P` on a free port until the block ends; ready when /readyz is."""
    port = free_port()
    log = log_dir / f"serve-{port}.stderr"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [ARBITER, "serve", "--port", str(port)],
            env=arbiter_env(database_url, **settings),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    server = ArbiterServer(f"http://127.0.0.1:{port}", database_url, process, log)
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        with httpx.Client(trust_env=False, timeout=5) as http:
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if http.get(f"{server.url}/readyz").status_code == 200:
                        break
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"arbiter serve did not become ready:\n{server.stderr()}")
                time.sleep(0.05)
        yield server
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@dataclass
class Deployment:
    """A running server and the tokens of an admin (ada) and an analyst (ann)."""

    server: ArbiterServer
    admin: str
    analyst: str


@pytest.fixture(scope="session")
def default_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """`arbiter serve` at its default settings on a fresh SQLite file."""
    directory = tmp_path_factory.mktemp("arbiter-serve")
    database_url = migrated_sqlite(directory)
    admin = create_token(database_url, "ada", "admin")
    analyst = create_token(database_url, "ann", "analyst")
    with arbiter_serve(database_url, directory) as server:
        yield Deployment(server, admin, analyst)


def graphql_post(
    server: ArbiterServer, token: str | None, body: dict[str, Any], **headers: str
) -> httpx.Response:
    """POST `body` as JSON to the server's /graphql with the bearer token."""
    if token:
        headers["Authorization"] = f"Bearer {token}"
    with httpx.Client(trust_env=False, timeout=10) as http:
        return http.post(server.graphql, json=body, headers=headers)


def graphql_get(
    server: ArbiterServer, token: str | None, params: dict[str, str], **headers: str
) -> httpx.Response:
    """GET the server's /graphql with these query parameters and the bearer token."""
    if token:
        headers["Authorization"] = f"Bearer {token}"
    with httpx.Client(trust_env=False, timeout=10) as http:
        return http.get(server.graphql, params=params, headers=headers)
