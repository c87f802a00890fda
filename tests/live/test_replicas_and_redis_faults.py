"""Across replicas through Redis, and through a Redis outage.

Two `arbiter serve` processes on one PostgreSQL database and one Redis: a
subscriber on one receives a decision made on the other. A Redis this test
starts on its own port is stopped mid-test and started again: decisions keep
succeeding meanwhile, and their events arrive after it returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import _service_missing
from tests.factories import create_user
from tests.live.conftest import free_port
from tests.live.helpers import (
    APPROVE,
    CREATE_WORKFLOW,
    QUEUE_EVENTS,
    post,
    submit_one,
    subscribe,
)

ROOT = Path(__file__).resolve().parents[2]
ARBITER = str(Path(sys.executable).with_name("arbiter"))


@contextlib.contextmanager
def own_redis(port: int) -> Iterator[subprocess.Popen[bytes]]:
    """A redis-server of this test's own, in the foreground of a child process."""
    binary = shutil.which("redis-server")
    if binary is None:
        _service_missing("redis-server is not installed")
    process = subprocess.Popen(
        [
            str(binary),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield process
    finally:
        process.terminate()
        process.wait(10)


async def wait_for_redis(port: int) -> None:
    from redis import asyncio as aioredis

    client = aioredis.from_url(f"redis://127.0.0.1:{port}/0")
    try:
        for _ in range(100):
            with contextlib.suppress(Exception):
                if await client.ping():
                    return
            await asyncio.sleep(0.05)
        raise RuntimeError("redis did not start")
    finally:
        await client.aclose()


@contextlib.asynccontextmanager
async def arbiter_serve(database_url: str, redis_url: str) -> AsyncIterator[str]:
    """`arbiter serve` as a separate process; yields its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "ARBITER_DATABASE_URL": database_url,
        "ARBITER_REDIS_URL": redis_url,
        "ARBITER_OUTBOX_RELAY_SECONDS": "0.5",
    }
    process = await asyncio.create_subprocess_exec(
        ARBITER,
        "serve",
        "--port",
        str(port),
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as http:
            for _ in range(200):
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(f"{url}/readyz")).status_code == 200:
                        break
                assert process.returncode is None, "arbiter serve exited early"
                await asyncio.sleep(0.05)
            else:
                raise RuntimeError("arbiter serve did not become ready")
        yield url
    finally:
        process.terminate()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(process.wait(), 10)


async def test_a_subscriber_on_one_replica_receives_a_decision_made_on_another(
    postgres_url, redis_url
):
    from store.database import connect
    from workers.runtime import Runtime

    database = connect(postgres_url)
    try:
        admin = await create_user(Runtime(database), "admin")
    finally:
        await database.dispose()
    async with (
        arbiter_serve(postgres_url, redis_url) as one,
        arbiter_serve(postgres_url, redis_url) as two,
    ):
        await post(f"{one}/graphql", admin, CREATE_WORKFLOW, {"key": "replicas"})
        ws_one = f"{one}/graphql".replace("http://", "ws://")
        async with subscribe(ws_one, admin, QUEUE_EVENTS, {"wf": "replicas"}) as subscriber:
            item = await submit_one(f"{two}/graphql", admin, "replicas")
            await post(f"{two}/graphql", admin, APPROVE, {"id": item})
            added = await subscriber.next()
            decided = await subscriber.next()
    assert added["data"]["queueEvents"]["kind"] == "ADDED"
    assert decided["data"]["queueEvents"]["kind"] == "DECIDED"
    assert decided["data"]["queueEvents"]["recommendation"]["id"] == item


async def test_decisions_succeed_while_redis_is_down_and_their_events_arrive_after(
    live_server_factory,
):
    port = free_port()
    redis_url = f"redis://127.0.0.1:{port}/0"
    redis = own_redis(port)
    redis.__enter__()
    stopped = False
    try:
        await wait_for_redis(port)
        async with live_server_factory(redis_url=redis_url, outbox_relay_seconds=0.3) as server:
            admin = await create_user(server.services, "admin")
            await post(server.graphql, admin, CREATE_WORKFLOW, {"key": "outage"})
            async with subscribe(server.websocket, admin, QUEUE_EVENTS, {"wf": "outage"}) as sub:
                before = await submit_one(server.graphql, admin, "outage")
                assert (await sub.next())["data"]["queueEvents"]["kind"] == "ADDED"

                redis.__exit__(None, None, None)  # Redis goes away
                stopped = True
                during = [await submit_one(server.graphql, admin, "outage") for _ in range(3)]
                await post(server.graphql, admin, APPROVE, {"id": before})
                with pytest.raises(asyncio.TimeoutError):
                    await sub.next(timeout=1.0)

                redis = own_redis(port)  # and comes back on the same port
                redis.__enter__()
                stopped = False
                await wait_for_redis(port)
                arrived = [await sub.next(timeout=15) for _ in range(4)]
        seen = {
            (e["data"]["queueEvents"]["kind"], e["data"]["queueEvents"]["recommendation"]["id"])
            for e in arrived
        }
        assert seen == {("ADDED", i) for i in during} | {("DECIDED", before)}
    finally:
        if not stopped:
            redis.__exit__(None, None, None)
