"""Resolved bearer tokens are remembered for a while, so most requests skip the look-up."""

from __future__ import annotations

from datetime import UTC, datetime

from api.token_cache import TokenCache
from domain.enums import Role
from domain.model import User
from tests.api.test_no_n_plus_one import StatementCounter
from tests.factories import create_user

ME = "query { me { name } }"


def a_user(name: str = "ada") -> User:
    return User(id=f"usr_{name}", name=name, role=Role.ANALYST, created_at=datetime.now(UTC))


def test_a_remembered_token_is_forgotten_after_its_time(monkeypatch):
    clock = [100.0]
    monkeypatch.setattr("api.token_cache.time.monotonic", lambda: clock[0])
    cache = TokenCache(seconds=30, size=10)
    cache.put("h1", a_user())
    clock[0] = 129.9
    assert cache.get("h1") is not None
    clock[0] = 130.0
    assert cache.get("h1") is None


def test_the_least_recently_used_token_makes_room_for_a_new_one():
    cache = TokenCache(seconds=30, size=2)
    cache.put("h1", a_user("one"))
    cache.put("h2", a_user("two"))
    assert cache.get("h1") is not None  # h2 is now the least recently used
    cache.put("h3", a_user("three"))
    assert cache.get("h2") is None
    assert cache.get("h1") is not None and cache.get("h3") is not None


def test_a_cache_of_zero_seconds_remembers_nothing():
    cache = TokenCache(seconds=0, size=10)
    cache.put("h1", a_user())
    assert cache.get("h1") is None


async def test_a_second_request_with_the_same_token_asks_the_database_nothing(gql):
    token = await create_user(gql.services, "analyst")
    database = gql.services.database
    engines = [database.read_engine, database.write_engine]
    with StatementCounter(engines) as first:
        assert (await gql(ME, token=token))["me"]["name"]
    with StatementCounter(engines) as second:
        assert (await gql(ME, token=token))["me"]["name"]
    assert (first.count, second.count) == (1, 0)


async def test_an_unknown_token_is_not_remembered_and_stays_a_401(gql):
    for _ in range(2):
        response = await gql.post(ME, token="not-a-token")
        assert response.status_code == 401
    assert len(gql.services.token_cache._entries) == 0
