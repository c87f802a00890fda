"""Which errors mean "the database is unavailable", and the 503 the API answers with them.

The end-to-end case (PostgreSQL stopped and started under `arbiter serve`) is
test_postgres_restart.py; this one needs no PostgreSQL at all.
"""

from __future__ import annotations

import asyncpg
import httpx
import pytest
from sqlalchemy import exc as sa_exc

from api.app import create_app
from api.settings import Settings
from api.unavailable import CODE, MESSAGE, is_database_unavailable
from tests.live.conftest import free_port


def _wrapped(orig: BaseException, **kwargs: bool) -> sa_exc.DBAPIError:
    return sa_exc.DBAPIError.instance("SELECT 1", {}, orig, Exception, **kwargs)


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(111, "Connection refused"),
        ConnectionResetError(104, "Connection reset by peer"),
        TimeoutError("connect timed out"),
        asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed"),
        asyncpg.exceptions.AdminShutdownError("terminating connection"),
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        asyncpg.exceptions.InterfaceError("connection is closed"),
        sa_exc.InterfaceError("SELECT 1", {}, Exception("connection is closed")),
        _wrapped(Exception("server closed the connection"), connection_invalidated=True),
    ],
    ids=lambda e: type(e).__name__,
)
def test_connection_losses_are_recognised(error: BaseException):
    assert is_database_unavailable(error)


def test_a_wrapped_cause_is_recognised():
    try:
        try:
            raise ConnectionRefusedError(111, "Connection refused")
        except ConnectionRefusedError as inner:
            raise RuntimeError("while authenticating") from inner
    except RuntimeError as outer:
        assert is_database_unavailable(outer)


@pytest.mark.parametrize(
    "error",
    [
        ValueError("bad input"),
        sa_exc.IntegrityError("INSERT", {}, Exception("duplicate key")),
        asyncpg.exceptions.UniqueViolationError("duplicate key"),
        asyncpg.exceptions.SerializationError("could not serialize access"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_faults_of_the_request_are_not(error: BaseException):
    assert not is_database_unavailable(error)


async def test_an_unreachable_database_answers_503_with_a_clear_error():
    # Nothing listens on this port: every connection attempt is refused.
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nowhere"
    app = create_app(Settings(database_url=url, sla_sweep_seconds=3600))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            response = await http.post(
                "/graphql",
                json={"query": "{ me { id } }"},
                headers={"Authorization": "Bearer some-token"},
            )
            ready = await http.get("/readyz")
    assert response.status_code == 503, response.text
    assert response.json() == {
        "data": None,
        "errors": [{"message": MESSAGE, "extensions": {"code": CODE}}],
    }
    assert ready.status_code == 503
