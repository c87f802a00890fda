"""A newcomer's mistakes get one line on standard error saying what is wrong and what to
do, exit status 2, no traceback, and nothing created: from every command."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from pathlib import Path

import asyncpg
import pytest

from api.cli import migrate
from tests.cli.helpers import (
    EVERY_COMMAND,
    EVERY_DATABASE_COMMAND,
    Ran,
    environment,
    files_under,
    run_all,
)
from tests.conftest import PG_ADMIN_URL, _pg_admin, _service_missing

ALL_BUT_MIGRATE = [args for args in EVERY_DATABASE_COMMAND if args[0] != "migrate"]
# The same check guards every command; the mistakes not tried on all of them are tried
# on a few (each command is a second of start-up).
A_FEW = [("migrate",), ("users", "create", "ada", "--role", "admin"), ("serve",)]
A_FEW_BUT_MIGRATE = [("users", "list"), ("retrain", "loans"), ("serve",)]
PG_BASE = PG_ADMIN_URL.rsplit("/", 1)[0]  # postgresql://user@host:port


def assert_one_line(results: list[Ran], *hints: str) -> None:
    for ran in results:
        assert ran.status == 2, (ran.args, ran.status, ran.err)
        assert len(ran.err_lines) == 1, (ran.args, ran.err)
        assert ran.err_lines[0].startswith("error: "), (ran.args, ran.err)
        for hint in hints:
            assert hint in ran.err_lines[0], (ran.args, ran.err)


def test_an_unparsable_database_url_is_named_with_urls_that_work(tmp_path: Path) -> None:
    env = environment(ARBITER_DATABASE_URL="arbiter.db")
    results = run_all(A_FEW, tmp_path, env)
    assert_one_line(
        results,
        "ARBITER_DATABASE_URL='arbiter.db' is not a database URL",
        "use sqlite+aiosqlite:///./arbiter.db or postgresql+asyncpg://",
    )
    assert files_under(tmp_path) == set()


def test_a_postgresql_url_without_asyncpg_says_to_write_postgresql_asyncpg(
    tmp_path: Path,
) -> None:
    env = environment(ARBITER_DATABASE_URL=f"{PG_BASE}/arbiter")
    results = run_all(EVERY_DATABASE_COMMAND, tmp_path, env)
    fixed = PG_BASE.replace("postgresql://", "postgresql+asyncpg://", 1)
    assert_one_line(results, "starts with postgresql://", f"use {fixed}/arbiter")
    assert files_under(tmp_path) == set()


def test_a_sqlite_url_without_aiosqlite_says_to_write_sqlite_aiosqlite(tmp_path: Path) -> None:
    env = environment(ARBITER_DATABASE_URL="sqlite:///./arbiter.db")
    results = run_all(A_FEW, tmp_path, env)
    assert_one_line(results, "starts with sqlite://", "use sqlite+aiosqlite:///./arbiter.db")
    assert files_under(tmp_path) == set()


def test_without_a_database_every_command_says_to_migrate_first_and_creates_none(
    tmp_path: Path,
) -> None:
    results = run_all(ALL_BUT_MIGRATE, tmp_path, environment())  # the default URL
    assert_one_line(results, f"no database at {tmp_path / 'arbiter.db'}", "run `arbiter migrate`")
    assert files_under(tmp_path) == set()


def test_an_empty_database_file_says_to_migrate_first_and_stays_empty(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    empty = tmp_path / "data" / "arbiter.db"
    empty.touch()
    env = environment(ARBITER_DATABASE_URL=f"sqlite+aiosqlite:///{empty}")
    results = run_all(A_FEW_BUT_MIGRATE, tmp_path, env)
    assert_one_line(results, f"{empty} has no Arbiter tables yet: run `arbiter migrate` first")
    assert files_under(tmp_path) == {Path("data"), Path("data/arbiter.db")}
    assert empty.stat().st_size == 0


def test_migrate_into_a_folder_that_does_not_exist_says_so_and_creates_nothing(
    tmp_path: Path,
) -> None:
    env = environment(ARBITER_DATABASE_URL="sqlite+aiosqlite:///./data/arbiter.db")
    [ran] = run_all([("migrate",)], tmp_path, env)
    assert_one_line([ran], f"the folder {tmp_path / 'data'} does not exist")
    assert files_under(tmp_path) == set()


def test_a_database_of_another_schema_version_says_what_to_do(tmp_path: Path) -> None:
    older, newer = tmp_path / "older.db", tmp_path / "newer.db"
    for path in (older, newer):
        migrate(f"sqlite+aiosqlite:///{path}")
    with sqlite3.connect(older) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0001'")
    with sqlite3.connect(newer) as connection:
        connection.execute("UPDATE alembic_version SET version_num = 'from-the-future'")
    old, new = run_all(
        [("users", "list"), ("serve",)],
        tmp_path,
        [
            environment(ARBITER_DATABASE_URL=f"sqlite+aiosqlite:///{older}"),
            environment(ARBITER_DATABASE_URL=f"sqlite+aiosqlite:///{newer}"),
        ],
    )
    assert_one_line([old], f"{older} has an older schema (0001;", "run `arbiter migrate`")
    assert_one_line([new], "has schema from-the-future, which this Arbiter does not know")


def test_unreachable_postgresql_is_one_line(tmp_path: Path) -> None:
    host = PG_BASE.rsplit("@", 1)[-1].rsplit(":", 1)[0]
    env = environment(ARBITER_DATABASE_URL=f"postgresql+asyncpg://postgres@{host}:1/arbiter")
    results = run_all(EVERY_DATABASE_COMMAND, tmp_path, env)
    assert_one_line(results, f"cannot reach PostgreSQL at {host}:1", "start it or fix")
    assert files_under(tmp_path) == set()


async def test_a_postgresql_database_missing_or_unmigrated_says_what_to_do(
    tmp_path: Path,
) -> None:
    scratch = f"arbiter_cli_{uuid.uuid4().hex[:10]}"
    missing = f"arbiter_cli_missing_{uuid.uuid4().hex[:10]}"
    try:
        await _pg_admin(f'CREATE DATABASE "{scratch}"')
    except (TimeoutError, OSError, asyncpg.PostgresError) as error:
        _service_missing(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {error}")
    base = PG_BASE.replace("postgresql://", "postgresql+asyncpg://", 1)
    try:
        unmigrated, absent = await asyncio.gather(
            asyncio.to_thread(
                run_all,
                A_FEW_BUT_MIGRATE,
                tmp_path,
                environment(ARBITER_DATABASE_URL=f"{base}/{scratch}"),
            ),
            asyncio.to_thread(
                run_all,
                A_FEW,
                tmp_path,
                environment(ARBITER_DATABASE_URL=f"{base}/{missing}"),
            ),
        )
        assert_one_line(
            unmigrated,
            f"PostgreSQL database '{scratch}' at",
            "has no Arbiter tables yet: run `arbiter migrate` first",
        )
        assert_one_line(absent, f"has no database named '{missing}'", "create it")
        connection = await asyncpg.connect(f"{PG_BASE}/{scratch}", timeout=5)
        try:
            tables = await connection.fetchval(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
            )
        finally:
            await connection.close()
        assert tables == 0
        assert files_under(tmp_path) == set()
    finally:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


def test_an_invalid_setting_is_named_by_every_command(tmp_path: Path) -> None:
    env = environment(ARBITER_PORT="eighty")
    results = run_all(EVERY_COMMAND, tmp_path, env)
    assert_one_line(results, "ARBITER_PORT='eighty' is not valid", "integer", "fix or unset it")
    assert files_under(tmp_path) == set()


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('migrated') / 'arbiter.db'}"
    migrate(url)
    return url


def test_the_worker_without_redis_or_with_redis_away_says_so_and_so_does_retrain(
    tmp_path: Path, migrated: str
) -> None:
    away = environment(ARBITER_DATABASE_URL=migrated, ARBITER_REDIS_URL="redis://127.0.0.1:1/0")
    unset, worker_away, retrain_away, no_scheme = run_all(
        [("worker",), ("worker",), ("retrain", "loans"), ("worker",)],
        tmp_path,
        [
            environment(ARBITER_DATABASE_URL=migrated),
            away,
            away,
            environment(ARBITER_DATABASE_URL=migrated, ARBITER_REDIS_URL="127.0.0.1:6379"),
        ],
    )
    assert_one_line([unset], "arbiter worker needs ARBITER_REDIS_URL")
    assert_one_line(
        [worker_away, retrain_away], "cannot reach Redis at 127.0.0.1:1", "fix ARBITER_REDIS_URL"
    )
    assert_one_line([no_scheme], "ARBITER_REDIS_URL is not a Redis URL", "redis://")


def test_a_bad_retraining_schedule_stops_serve_and_worker_in_one_line(
    tmp_path: Path, migrated: str
) -> None:
    env = environment(ARBITER_DATABASE_URL=migrated, ARBITER_RETRAIN_CRON="monthly")
    results = run_all([("serve",), ("worker",)], tmp_path, env)
    assert_one_line(results, "ARBITER_RETRAIN_CRON='monthly' is not valid", "5 fields")


def test_with_verbose_the_traceback_comes_before_the_line(tmp_path: Path) -> None:
    results = run_all(
        [("--verbose", "users", "list"), ("users", "create", "ada", "--role", "admin", "-v")],
        tmp_path,
        environment(),
    )
    for ran in results:
        assert ran.status == 2
        assert ran.err.startswith("Traceback (most recent call last):"), ran.err
        assert ran.err_lines[-1] == (
            f"error: no database at {tmp_path / 'arbiter.db'}: run `arbiter migrate` first"
        )
    assert files_under(tmp_path) == set()


def test_serve_with_several_workers_needs_postgresql_and_redis_and_at_least_one(
    tmp_path: Path, migrated: str, postgres_url: str
) -> None:
    on_sqlite, without_redis, none = run_all(
        [("serve", "--workers", "2"), ("serve", "--workers", "2"), ("serve", "--workers", "0")],
        tmp_path,
        [
            environment(ARBITER_DATABASE_URL=migrated),
            environment(ARBITER_DATABASE_URL=postgres_url),
            environment(ARBITER_DATABASE_URL=migrated),
        ],
    )
    assert_one_line([on_sqlite], "--workers 2 needs PostgreSQL")
    assert_one_line([without_redis], "--workers 2 needs ARBITER_REDIS_URL")
    assert_one_line([none], "--workers 0: give at least 1")
