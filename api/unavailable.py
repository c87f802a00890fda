"""A lost database is a 503 the client may retry, not a 500 or a masked "Unexpected error.".

While PostgreSQL is down or restarting, every request that needs it fails the same
way: HTTP 503 with

    {"data": null, "errors": [{"message": "The database is unavailable; try again
     shortly.", "extensions": {"code": "DATABASE_UNAVAILABLE"}}]}

The pool replaces dead connections once it is back (pool_pre_ping), so requests
succeed again without restarting Arbiter.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from sqlalchemy import exc as sa_exc
from strawberry.types import ExecutionContext

MESSAGE = "The database is unavailable; try again shortly."
CODE = "DATABASE_UNAVAILABLE"
STATUS = 503

# SQLSTATE class 08 (connection exception) and 57P01-57P03 (admin or crash shutdown,
# cannot connect now: the server is starting or stopping).
_SHUTDOWN_STATES = {"57P01", "57P02", "57P03"}


def _sqlstate(error: BaseException) -> str | None:
    code = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
    return code if isinstance(code, str) else None


def _causes(error: BaseException) -> Iterator[BaseException]:
    """The error, what it wraps (DBAPIError.orig, GraphQLError.original_error) and its
    causes, each once."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending += [current.__cause__, current.__context__]
        for name in ("orig", "original_error"):
            inner = getattr(current, name, None)
            if isinstance(inner, BaseException):
                pending.append(inner)


def is_database_unavailable(error: BaseException) -> bool:
    """Whether `error` means the database cannot be reached (refused, reset, shutting
    down, a pooled connection that died) rather than a fault of the request."""
    from asyncpg import exceptions as pg

    for cause in _causes(error):
        if isinstance(cause, sa_exc.DBAPIError) and cause.connection_invalidated:
            return True
        if isinstance(cause, sa_exc.InterfaceError | pg.InterfaceError):
            return True  # e.g. "connection is closed", "cannot perform operation"
        if isinstance(cause, ConnectionError | pg.PostgresConnectionError):
            return True  # refused, reset, aborted; SQLSTATE class 08
        if isinstance(cause, OSError):
            return True  # unreachable host or socket, connect timeout
        state = _sqlstate(cause)
        if state is not None and (state.startswith("08") or state in _SHUTDOWN_STATES):
            return True
    return False


def unavailable_body() -> dict[str, Any]:
    return {"data": None, "errors": [{"message": MESSAGE, "extensions": {"code": CODE}}]}


class DatabaseUnavailable(Exception):
    """Raised where no GraphQL result exists yet (authenticating the request)."""


def answer_database_unavailable(context: ExecutionContext) -> None:
    """Turn resolver errors caused by a lost database into one public error and a 503
    (called when the operation has ended, before unexpected errors are masked)."""
    result = context.result
    errors = getattr(result, "errors", None)
    if result is None or not errors or not any(is_database_unavailable(e) for e in errors):
        return
    # One clear error and no partial data: what was read before the loss is not worth
    # keeping, and the client is to retry the whole operation.
    result.data = None
    result.errors = [GraphQLError(MESSAGE, extensions={"code": CODE})]
    response = getattr(context.context, "response", None)
    if response is not None and hasattr(response, "status_code"):
        response.status_code = STATUS
