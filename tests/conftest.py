"""Shared fixtures: real databases (SQLite file and PostgreSQL), the app, and a GraphQL client.

PostgreSQL comes from ARBITER_TEST_PG_URL (default: the local server's `test`
database, used only to create a scratch database per run). When it cannot be
reached the PostgreSQL tests are skipped with the reason, unless
ARBITER_REQUIRE_SERVICES=1, which makes them fail instead.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio
import sqlalchemy as sa

from api.app import create_app
from api.cli import migrate
from api.settings import Settings
from store.database import Database, connect
from store.tables import metadata

PG_ADMIN_URL = os.environ.get("ARBITER_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRE_SERVICES = os.environ.get("ARBITER_REQUIRE_SERVICES") == "1"
BACKENDS = ["sqlite", "postgresql"]


def _pg_url(database: str) -> str:
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base.replace('postgresql://', 'postgresql+asyncpg://', 1)}/{database}"


async def _pg_admin(sql: str) -> None:
    connection = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def _service_missing(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"ARBITER_REQUIRE_SERVICES=1 but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("db") / "arbiter-test.db"
    url = f"sqlite+aiosqlite:///{path}"
    migrate(url)
    return url


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def postgres_url() -> AsyncIterator[str]:
    name = f"arbiter_test_{uuid.uuid4().hex[:10]}"
    try:
        await _pg_admin(f'CREATE DATABASE "{name}"')
    except (TimeoutError, OSError, asyncpg.PostgresError) as error:
        _service_missing(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {error}")
    url = _pg_url(name)
    await asyncio.to_thread(migrate, url)
    yield url
    await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest) -> str:
    fixture = "sqlite_url" if backend == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(fixture))


async def _empty(database: Database) -> None:
    async with database.write_engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            await connection.execute(sa.delete(table))


@pytest_asyncio.fixture(loop_scope="session")
async def database(database_url: str) -> AsyncIterator[Database]:
    """The migrated database, emptied before each test."""
    db = connect(database_url)
    await _empty(db)
    yield db
    await db.dispose()


class GraphQLClient:
    """Posts real GraphQL strings through the app, as a frontend would."""

    def __init__(self, http: httpx.AsyncClient, services: Any) -> None:
        self.http = http
        self.services = services

    async def post(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )

    async def __call__(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str
    ) -> dict[str, Any]:
        """The response's `data`; fails the test on top-level errors."""
        response = await self.post(query, variables, token)
        assert response.status_code == 200, response.text
        body = response.json()
        assert not body.get("errors"), body["errors"]
        return dict(body["data"])


async def settle(services: Any) -> None:
    """Let background work finish: publish every outbox event, run queued in-process jobs."""
    from datetime import timedelta

    from domain.clock import utcnow

    await services.publisher.relay_once(utcnow() + timedelta(hours=1))
    drain = getattr(services.jobs, "drain", None)
    if drain is not None:
        await drain()


def session_log_key() -> Path:
    """One log signing key for the whole test session (made once, mode 0600)."""
    global _LOG_KEY
    if _LOG_KEY is None:
        from store.log_keys import create_key_file

        _LOG_KEY = Path(tempfile.mkdtemp(prefix="arbiter-log-key-")) / "log-signing.key"
        create_key_file(_LOG_KEY)
    return _LOG_KEY


_LOG_KEY: Path | None = None


def make_settings(database_url: str, **overrides: Any) -> Settings:
    overrides.setdefault("log_signing_key_file", session_log_key())
    return Settings(database_url=database_url, **overrides)


@pytest_asyncio.fixture(loop_scope="session")
async def app_settings(database: Database, database_url: str) -> Settings:
    return make_settings(database_url)


@pytest_asyncio.fixture(loop_scope="session")
async def gql(app_settings: Settings) -> AsyncIterator[GraphQLClient]:
    app = create_app(app_settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield GraphQLClient(http, app.state.services)


@pytest.fixture(autouse=True)
def _no_stray_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("ARBITER_DATABASE_URL", raising=False)
    yield
