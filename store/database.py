"""Engines for the configured database.

SQLite gets two engines: writes take the one connection of theirs and begin with
BEGIN IMMEDIATE (writers of this process queue for the connection; those of other
processes on the busy timeout instead of failing with "database is locked"), reads
begin deferred on a pool of their own (WAL lets them run beside a writer).
PostgreSQL uses one pooled engine for both.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from store.tables import metadata

# metadata is re-exported for the migrations, which see no table module.
__all__ = ["Database", "connect", "dump_json", "metadata"]

SQLITE_BUSY_TIMEOUT_MS = 30_000


def dump_json(value: Any) -> str:
    """JSON columns are written with orjson; what it refuses (integers beyond 64 bits)
    falls back to the standard library."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value)


JSON_CODEC: dict[str, Any] = {"json_serializer": dump_json, "json_deserializer": orjson.loads}


@dataclass
class Database:
    url: str
    write_engine: AsyncEngine
    read_engine: AsyncEngine
    request_engine: AsyncEngine | None = None
    """For the short reads of API requests; the read engine when not set."""

    @property
    def is_sqlite(self) -> bool:
        return self.write_engine.dialect.name == "sqlite"

    def write_sessions(self) -> async_sessionmaker[Any]:
        return async_sessionmaker(self.write_engine, expire_on_commit=False, autoflush=False)

    def read_sessions(self) -> async_sessionmaker[Any]:
        return async_sessionmaker(self.read_engine, expire_on_commit=False, autoflush=False)

    def request_sessions(self) -> async_sessionmaker[Any]:
        engine = self.request_engine or self.read_engine
        return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)

    async def ping(self) -> None:
        """Ask the database for one row on the read engine; raises what the driver raised."""
        async with self.read_engine.connect() as connection:
            await connection.execute(sa.text("SELECT 1"))

    async def dispose(self) -> None:
        await self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            await self.read_engine.dispose()


def _sqlite_engine(url: str, begin: str, pool_size: int, max_overflow: int) -> AsyncEngine:
    engine = create_async_engine(
        url,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        pool_size=pool_size,
        max_overflow=max_overflow,
        **JSON_CODEC,
    )

    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take over BEGIN from the driver so that we can choose its kind.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if make_url(url).database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(connection: Any) -> None:
        connection.exec_driver_sql(begin)

    return engine


def connect(url: str, *, pool_size: int = 30, max_overflow: int = 0) -> Database:
    """Create the engines for `url` (sqlite+aiosqlite:// or postgresql+asyncpg://)."""
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        return Database(
            url,
            # One write connection: SQLite takes one writer at a time anyway, and writers
            # of this process now queue for it in order, instead of in SQLite's busy
            # handler, which sleeps 1 ms, then 2, 5, 10 ... up to 100 ms between tries
            # (a decision and its sealing are two writes: paced p99 191 ms, now 31).
            _sqlite_engine(url, "BEGIN IMMEDIATE", 1, 0),
            _sqlite_engine(url, "BEGIN", pool_size, max_overflow),
        )
    engine = create_async_engine(url, pool_size=pool_size, max_overflow=max_overflow, **JSON_CODEC)
    _ping_when_idle(engine)
    # An API request's reads take no transaction: under READ COMMITTED each statement has
    # its own snapshot anyway, and the request then costs no BEGIN and ROLLBACK round
    # trips. (Jobs keep transactions: streaming a large result needs a cursor in one.)
    requests = engine.execution_options(isolation_level="AUTOCOMMIT")
    return Database(url, engine, engine, requests)


IDLE_PING_SECONDS = 2.0


def _ping_when_idle(engine: AsyncEngine) -> None:
    """Check a pooled connection before use only if it has been idle a while.

    A busy pool hands out connections used milliseconds ago, and pinging each (as
    pool_pre_ping does) would add a round trip to every transaction. A connection idle
    for longer (say, across a PostgreSQL restart) is pinged, and replaced if dead; a
    connection that dies while busy fails its request, which invalidates the pool.
    """

    @event.listens_for(engine.sync_engine, "checkin")
    def stamp(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def ping(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise sa_exc.DisconnectionError(f"pooled connection is gone: {error}") from error
