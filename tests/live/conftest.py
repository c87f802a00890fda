"""Fixtures for live tests: a real HTTP/WebSocket server on 127.0.0.1, and a real Redis.

`live_server` runs uvicorn inside the test's event loop on a free port, with
the app's full lifespan (bus, outbox publisher, in-process jobs and sweep, or
Redis and arq when the settings say so). Redis comes from ARBITER_TEST_REDIS_URL
(default redis://127.0.0.1:6379/15, flushed before each test that uses it);
without it those tests skip, or fail under ARBITER_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio
import uvicorn

from api.app import create_app
from api.settings import Settings
from tests.conftest import _service_missing, make_settings

REDIS_URL = os.environ.get("ARBITER_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerAddress:
    """/graphql over HTTP and WebSocket of a server whose `url` is http://127.0.0.1:PORT."""

    url: str

    @property
    def graphql(self) -> str:
        return f"{self.url}/graphql"

    @property
    def websocket(self) -> str:
        return self.graphql.replace("http://", "ws://", 1)


@dataclass
class LiveServer(ServerAddress):
    url: str  # http://127.0.0.1:PORT
    services: Any


@contextlib.asynccontextmanager
async def serve(settings: Settings) -> AsyncIterator[LiveServer]:
    """Run the app with uvicorn on a free port until the block ends."""
    port = free_port()
    app = create_app(settings)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    else:
        raise RuntimeError("the live server did not start")
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", app.state.services)
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=10)


@pytest_asyncio.fixture(loop_scope="session")
async def redis_url() -> AsyncIterator[str]:
    """A real Redis, flushed for this test."""
    from redis import asyncio as aioredis

    client = aioredis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await client.flushdb()
    except Exception as error:
        await client.aclose()
        _service_missing(f"Redis is not reachable at {REDIS_URL}: {error}")
    yield REDIS_URL
    with contextlib.suppress(Exception):
        await client.flushdb()
    await client.aclose()


@pytest_asyncio.fixture(loop_scope="session")
async def live_server_factory(
    database: Any, database_url: str
) -> AsyncIterator[Callable[..., contextlib.AbstractAsyncContextManager[LiveServer]]]:
    """serve(**setting_overrides) against the test's database."""

    def factory(**overrides: Any) -> contextlib.AbstractAsyncContextManager[LiveServer]:
        return serve(make_settings(database_url, **overrides))

    yield factory


@pytest_asyncio.fixture(loop_scope="session")
async def live_server(live_server_factory: Any) -> AsyncIterator[LiveServer]:
    """The embedded default (in-process bus and jobs) on the test's database."""
    async with live_server_factory() as server:
        yield server


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
