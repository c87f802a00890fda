"""How the `arbiter` command answers mistakes: one line saying what is wrong and what to do.

Before a command touches anything, its settings are validated (`load_settings`) and its
database is checked (`check_database`): the URL parses and names a driver Arbiter has, a
SQLite file exists (only `arbiter migrate` may create one), PostgreSQL answers within a
few seconds, and the schema is the newest. Whatever still goes wrong is translated by
`explain`. Each becomes a `CliError`, which `arbiter` prints as one line before exiting 2.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from api.settings import Settings, get_settings
from domain.errors import DomainError
from store.revision import postgres_revision, sqlite_revision

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

SQLITE_EXAMPLE = "sqlite+aiosqlite:///./arbiter.db"
POSTGRES_EXAMPLE = "postgresql+asyncpg://user@host/db"
DRIVERS = {"sqlite": "aiosqlite", "postgresql": "asyncpg"}
CONNECT_SECONDS = 5.0
"""How long the database and Redis probes wait for an answer."""
MIGRATE = "run `arbiter migrate` first"


class CliError(Exception):
    """A mistake the user can fix. `message` is the whole line, without "error: "."""

    def __init__(self, message: str, status: int = 2) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class Need(Enum):
    """What a command needs of the configured database."""

    NOTHING = "nothing"
    MIGRATED = "migrated"
    """It exists, answers, and its schema is the newest."""
    CREATABLE = "creatable"
    """It answers, or (SQLite) its file may be created: what `arbiter migrate` needs."""


# ------------------------------------------------------------------ settings


def load_settings() -> Settings:
    """The ARBITER_* settings, or a CliError naming every variable that is not valid."""
    from pydantic import ValidationError

    try:
        return get_settings()
    except ValidationError as error:
        problems = []
        for item in error.errors():
            message = str(item["msg"]).removeprefix("Value error, ")
            if item["loc"]:
                name = "ARBITER_" + str(item["loc"][0]).upper()
                value = str(item.get("input"))
                shown = value if len(value) <= 40 else value[:37] + "..."
                problems.append(f"{name}={shown!r} is not valid: {message} (fix or unset it)")
            else:
                problems.append(message)
        raise CliError("; ".join(problems)) from error


def check_cron(settings: Settings) -> None:
    """ARBITER_RETRAIN_CRON parses (the scheduler of `serve` and `worker` needs it)."""
    from workers.schedule import parse_cron

    try:
        parse_cron(settings.retrain_cron)
    except ValueError as error:
        raise CliError(
            f"ARBITER_RETRAIN_CRON={settings.retrain_cron!r} is not valid: {error} "
            "(five fields: minute hour day month weekday, e.g. '0 3 1 * *')"
        ) from error


# ------------------------------------------------------------------ the database


def parse_database_url(url: str) -> URL:
    """The parsed URL if Arbiter can use it; else a CliError saying what to write."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as error:
        raise CliError(
            f"ARBITER_DATABASE_URL={url!r} is not a database URL: "
            f"use {SQLITE_EXAMPLE} or {POSTGRES_EXAMPLE}"
        ) from error
    scheme = parsed.drivername.partition("+")[0]
    backend = "postgresql" if scheme in ("postgres", "postgresql") else scheme
    if backend not in DRIVERS:
        raise CliError(
            f"ARBITER_DATABASE_URL names {scheme}, which Arbiter does not support: "
            f"use {SQLITE_EXAMPLE} or {POSTGRES_EXAMPLE}"
        )
    wanted = f"{backend}+{DRIVERS[backend]}"
    if parsed.drivername != wanted:
        fixed = parsed.set(drivername=wanted).render_as_string(hide_password=True)
        raise CliError(
            f"ARBITER_DATABASE_URL starts with {parsed.drivername}://, but Arbiter talks to "
            f"{backend} through {DRIVERS[backend]}: use {fixed}"
        )
    if backend == "sqlite" and parsed.database in (None, "", ":memory:"):
        raise CliError(
            "ARBITER_DATABASE_URL names an in-memory SQLite database, which is gone when the "
            f"command ends: name a file, e.g. {SQLITE_EXAMPLE}"
        )
    return parsed


def sqlite_path(url: str) -> Path:
    """The absolute path of a SQLite URL's file (relative paths are from here)."""
    from sqlalchemy.engine import make_url

    return Path(make_url(url).database or "").absolute()


def describe(url: str) -> str:
    """The database in words, without its password: a path, or PostgreSQL's host and name."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return str(sqlite_path(url))
    return f"PostgreSQL database {parsed.database!r} at {_where(url)}"


def _where(url: str) -> str:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return f"{parsed.host or 'localhost'}:{parsed.port or 5432}"


def check_database(url: str, need: Need) -> None:
    """Raise a CliError unless the database at `url` is what the command needs.

    Creates nothing: a missing SQLite file is reported, not created (except that `need`
    CREATABLE accepts a missing file whose folder exists), and PostgreSQL is asked
    with a short connect timeout."""
    if need is Need.NOTHING:
        return
    parsed = parse_database_url(url)
    if parsed.get_backend_name() == "sqlite":
        revision = _sqlite_revision(sqlite_path(url), need)
    else:
        revision = _postgres_revision(url, need)
    if need is Need.MIGRATED:
        _check_revision(url, revision)


def _sqlite_revision(path: Path, need: Need) -> str | None:
    if path.is_dir():
        raise CliError(f"{path} is a folder, not a database: fix ARBITER_DATABASE_URL")
    if not path.exists():
        if need is Need.CREATABLE:
            if not path.parent.is_dir():
                raise CliError(
                    f"cannot create {path}: the folder {path.parent} does not exist "
                    "(create it or fix ARBITER_DATABASE_URL)"
                )
            return None
        raise CliError(f"no database at {path}: {MIGRATE}")
    try:
        return sqlite_revision(path)
    except sqlite3.DatabaseError as error:
        raise CliError(
            f"cannot read {path} as a SQLite database ({error}): fix ARBITER_DATABASE_URL"
        ) from error


def _postgres_revision(url: str, need: Need) -> str | None:
    probe = postgres_revision(url, CONNECT_SECONDS, read=need is Need.MIGRATED)
    try:
        return asyncio.run(asyncio.wait_for(probe, CONNECT_SECONDS + 1))
    except Exception as error:
        raise explain(error, url) or CliError(
            f"cannot use {describe(url)}: {_first_line(error)}"
        ) from error


def _check_revision(url: str, revision: str | None) -> None:
    if revision is None:
        raise CliError(f"{describe(url)} has no Arbiter tables yet: {MIGRATE}")
    from alembic.script import ScriptDirectory

    from migrations import alembic_config

    scripts = ScriptDirectory.from_config(alembic_config(url))
    heads = scripts.get_heads()
    if revision in heads:
        return
    try:
        known = scripts.get_revision(revision) is not None
    except Exception:
        known = False
    if known:
        raise CliError(
            f"{describe(url)} has an older schema ({revision}; this Arbiter "
            f"needs {', '.join(heads)}): run `arbiter migrate`"
        )
    raise CliError(
        f"{describe(url)} has schema {revision}, which this Arbiter does not "
        "know (a newer Arbiter migrated it): upgrade Arbiter or fix ARBITER_DATABASE_URL"
    )


# ------------------------------------------------------------------ Redis


def check_redis(url: str | None) -> str:
    """The Redis URL that `arbiter worker` needs, once Redis has answered a ping."""
    if not url:
        raise CliError(
            "arbiter worker needs ARBITER_REDIS_URL, e.g. redis://127.0.0.1:6379/0 (without "
            "Redis, `arbiter serve` runs jobs and the SLA sweep in-process)"
        )
    ping_redis(url)
    return url


def ping_redis(url: str) -> None:
    """Raise a CliError unless Redis at `url` answers a ping within CONNECT_SECONDS."""
    from redis import asyncio as aioredis

    async def ping() -> None:
        client = aioredis.from_url(
            url, socket_connect_timeout=CONNECT_SECONDS, socket_timeout=CONNECT_SECONDS
        )
        try:
            await client.ping()
        finally:
            await client.aclose()

    try:
        asyncio.run(ping())
    except ValueError as error:
        raise CliError(
            f"ARBITER_REDIS_URL is not a Redis URL ({error}): use redis://host:6379/0"
        ) from error
    except Exception as error:
        raise CliError(
            f"cannot reach Redis at {_redis_where(url)} ({_first_line(error)}): start it or "
            "fix ARBITER_REDIS_URL"
        ) from error


def _redis_where(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname or 'localhost'}:{parts.port or 6379}"


# ------------------------------------------------------------------ anything else


def explain(error: BaseException, url: str | None = None) -> CliError | None:
    """The one line for an error raised while a command ran, if it is a known mistake.

    `url` is the database URL the command used (to say which database)."""
    for cause in _causes(error):
        if isinstance(cause, CliError):
            return cause
        if isinstance(cause, DomainError):
            return CliError(cause.message)
        found = _database_problem(cause, url)
        if found is not None:
            return found
    return None


def _database_problem(cause: BaseException, url: str | None) -> CliError | None:
    import asyncpg

    where = describe(url) if url else "the database"
    text = str(cause)
    if isinstance(cause, asyncpg.InvalidCatalogNameError) and url:
        return CliError(
            f"PostgreSQL at {_where(url)} has no database named {_database_name(url)!r}: "
            "create it (createdb) or fix ARBITER_DATABASE_URL"
        )
    if isinstance(
        cause, asyncpg.InvalidPasswordError | asyncpg.InvalidAuthorizationSpecificationError
    ):
        return CliError(f"{where} refused the connection ({text}): fix ARBITER_DATABASE_URL")
    if isinstance(cause, asyncpg.UndefinedTableError) or (
        isinstance(cause, sqlite3.OperationalError) and text.startswith("no such table")
    ):
        return CliError(f"{where} has no Arbiter tables yet: {MIGRATE}")
    if isinstance(cause, asyncpg.CannotConnectNowError):
        return CliError(f"{where} is starting up or shutting down: try again shortly")
    postgres = url is not None and url.startswith("postgresql")
    if isinstance(cause, OSError | TimeoutError) and postgres and url:
        reason = text or f"no answer within {CONNECT_SECONDS:g} s"
        return CliError(
            f"cannot reach PostgreSQL at {_where(url)} ({reason}): start it or fix "
            "ARBITER_DATABASE_URL"
        )
    if isinstance(cause, sqlite3.DatabaseError):
        return CliError(f"cannot use {where} ({text})")
    if isinstance(cause, ModuleNotFoundError) and url:
        try:
            parse_database_url(url)  # says which driver to name, when that is the problem
        except CliError as mistake:
            return mistake
    return None


def _database_name(url: str) -> str:
    from sqlalchemy.engine import make_url

    return str(make_url(url).database)


def _causes(error: BaseException) -> Iterator[BaseException]:
    """The error, what caused it, what that wrapped (`orig`), and so on."""
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for linked in (getattr(current, "orig", None), current.__cause__, current.__context__):
            if isinstance(linked, BaseException):
                pending.append(linked)


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


def check_workers(settings: Settings, workers: int) -> None:
    """`serve --workers N`: at least one; several need a shared database and bus (each
    process would otherwise keep its own SQLite lock and hear only its own events)."""
    if workers < 1:
        raise CliError(f"--workers {workers}: give at least 1")
    if workers == 1:
        return
    if parse_database_url(settings.database_url).get_backend_name() == "sqlite":
        raise CliError(
            f"--workers {workers} needs PostgreSQL (ARBITER_DATABASE_URL): SQLite takes "
            "one writer at a time"
        )
    if not settings.redis_url:
        raise CliError(
            f"--workers {workers} needs ARBITER_REDIS_URL: without it each process hears "
            "only its own events, and live queues would miss the others'"
        )
