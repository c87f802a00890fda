"""What the app holds for its lifetime: settings, the database, and how to run a use case."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy.exc import DBAPIError, IntegrityError

from api.settings import Settings
from store.database import Database
from store.queries import ReadModel
from store.uow import SqlUnitOfWork

P = ParamSpec("P")
R = TypeVar("R")

RETRIES = 4
# PostgreSQL: serialization failure, deadlock detected. Both are safe to retry whole.
RETRYABLE_SQLSTATES = {"40001", "40P01"}


def _retryable(error: DBAPIError) -> bool:
    if isinstance(error, IntegrityError):
        # A concurrent insert of the same unique key: on retry the use case finds it.
        return True
    code = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    return code in RETRYABLE_SQLSTATES


@dataclass
class Services:
    settings: Settings
    database: Database

    def __post_init__(self) -> None:
        self._write_sessions = self.database.write_sessions()
        self._read_sessions = self.database.read_sessions()

    def unit_of_work(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._write_sessions, skip_locked=not self.database.is_sqlite)

    def read_session(self) -> Any:
        return self._read_sessions()

    async def run(
        self,
        use_case: Callable[Concatenate[Any, P], Awaitable[R]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> R:
        """Run a use case in its own unit of work, retrying transient conflicts whole."""
        for attempt in range(RETRIES):
            async with self.unit_of_work() as uow:
                try:
                    return await use_case(uow, *args, **kwargs)
                except DBAPIError as error:
                    if attempt == RETRIES - 1 or not _retryable(error):
                        raise
            await asyncio.sleep(0.01 * (attempt + 1))
        raise AssertionError("unreachable")

    async def read(self, query: Callable[[ReadModel], Awaitable[R]]) -> R:
        async with self.read_session() as session:
            return await query(ReadModel(session))
