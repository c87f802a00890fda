"""Which migration a database is at, read without the application's engine.

The command line checks this before it starts anything, so that a missing or
outdated database is named in one line instead of a traceback.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import quote


def sqlite_revision(path: Path) -> str | None:
    """The Alembic revision of the SQLite file at `path` (never created: opened
    read-write only if it exists); None when it has no migration table yet.
    Raises sqlite3.DatabaseError when the file is not a SQLite database."""
    connection = sqlite3.connect(f"file:{quote(str(path))}?mode=rw", uri=True)
    try:
        found = connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
        ).fetchone()
        if found is None:
            return None
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    finally:
        connection.close()
    return str(row[0]) if row else None


async def postgres_revision(url: str, timeout: float, *, read: bool = True) -> str | None:
    """Connect to the PostgreSQL database at `url` (within `timeout` seconds) and,
    with `read`, return its Alembic revision (None when it has no migration table).
    Without `read` only the connection is checked. Raises what the driver raised."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    engine = create_async_engine(url, poolclass=NullPool, connect_args={"timeout": timeout})
    try:
        async with engine.connect() as connection:
            if not read:
                return None
            if not await connection.scalar(text("SELECT to_regclass('alembic_version')")):
                return None
            found = await connection.scalar(text("SELECT version_num FROM alembic_version"))
            return str(found) if found is not None else None
    finally:
        await engine.dispose()
