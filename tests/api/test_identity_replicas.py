"""A deactivated user and revoked tokens are refused on every replica within a second,
token caches included: two apps on one PostgreSQL database and one Redis.

Replica B remembers the token (its cache holds it), the change is made through replica
A, and B is polled for up to a second. The last test cuts B off from A's announcement
(B listens on another channel), as if the pub/sub message were lost: B's re-check of
the refusal mark still refuses the token within the second.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from api.app import create_app
from domain.model import hash_token
from tests.conftest import GraphQLClient, _service_missing, make_settings
from tests.factories import create_user

REDIS_URL = os.environ.get("ARBITER_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
ME = "{ me { id name } }"
DEACTIVATE = "mutation($id: ID!) { deactivateUser(id: $id) { __typename } }"
REVOKE = "mutation($user: ID!) { revokeTokens(user: $user) { __typename } }"
WITHIN_SECONDS = 1.0
POLL_SECONDS = 0.01


@pytest.fixture
def backend() -> str:
    return "postgresql"


@pytest_asyncio.fixture(loop_scope="session")
async def redis_url() -> AsyncIterator[str]:
    """A real Redis (nothing flushed: each test has channels of its own)."""
    from redis import asyncio as aioredis

    client = aioredis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await client.ping()
    except Exception as error:
        _service_missing(f"Redis is not reachable at {REDIS_URL}: {error}")
    finally:
        await client.aclose()
    yield REDIS_URL


@contextlib.asynccontextmanager
async def replica(database_url: str, redis_url: str, channel: str) -> AsyncIterator[GraphQLClient]:
    app = create_app(make_settings(database_url, redis_url=redis_url, redis_channel=channel))
    async with app.router.lifespan_context(app):
        services = app.state.services
        await services.token_revocations.listening.wait()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield GraphQLClient(http, services)


async def seconds_until_refused(client: GraphQLClient, token: str) -> float:
    """How long until `token` is a 401 on this replica; fails past WITHIN_SECONDS."""
    started = time.monotonic()
    while time.monotonic() - started <= WITHIN_SECONDS:
        if (await client.post(ME, token=token)).status_code == 401:
            return time.monotonic() - started
        # A cache hit awaits nothing; in-process, the replica's listener runs only now.
        await asyncio.sleep(POLL_SECONDS)
    pytest.fail(f"the token still worked {WITHIN_SECONDS} s after it was refused on A")


async def remembered_on(client: GraphQLClient, token: str) -> dict[str, Any]:
    """The token works on this replica, and its cache now holds it."""
    me = (await client(ME, token=token))["me"]
    assert client.services.token_cache.get(hash_token(token)) is not None
    return dict(me)


@pytest_asyncio.fixture(loop_scope="session")
async def channel(database: Any) -> str:
    return f"arbiter-test-{uuid.uuid4().hex[:8]}"


async def test_a_user_deactivated_on_one_replica_is_refused_on_another_within_a_second(
    database_url, redis_url, channel
):
    async with (
        replica(database_url, redis_url, channel) as a,
        replica(database_url, redis_url, channel) as b,
    ):
        admin = await create_user(a.services, "admin")
        token = await create_user(a.services, "analyst")
        user = await remembered_on(b, token)

        assert (await a(DEACTIVATE, {"id": user["id"]}, token=admin))["deactivateUser"][
            "__typename"
        ] == "UserUpdated"

        took = await seconds_until_refused(b, token)
        assert (await b.post(ME, token=admin)).status_code == 200
    print(f"deactivation refused on replica B after {took * 1000:.0f} ms")


async def test_tokens_revoked_on_one_replica_are_refused_on_another_within_a_second(
    database_url, redis_url, channel
):
    async with (
        replica(database_url, redis_url, channel) as a,
        replica(database_url, redis_url, channel) as b,
    ):
        token = await create_user(a.services, "senior")
        user = await remembered_on(b, token)

        assert (await a(REVOKE, {"user": user["id"]}, token=token))["revokeTokens"][
            "__typename"
        ] == "UserUpdated"

        took = await seconds_until_refused(b, token)
    print(f"revocation refused on replica B after {took * 1000:.0f} ms")


async def test_a_lost_announcement_still_refuses_the_token_within_a_second(
    database_url, redis_url, channel
):
    async with (
        replica(database_url, redis_url, channel) as a,
        replica(database_url, redis_url, f"{channel}-deaf") as b,
    ):
        admin = await create_user(a.services, "admin")
        token = await create_user(a.services, "analyst")
        user = await remembered_on(b, token)
        assert (await b.post(ME, token=token)).status_code == 200

        await a(DEACTIVATE, {"id": user["id"]}, token=admin)

        took = await seconds_until_refused(b, token)
    print(f"deactivation refused on a replica that missed the message after {took * 1000:.0f} ms")
