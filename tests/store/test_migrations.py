"""Migrations run from empty, down and up again, on SQLite and PostgreSQL, and match the models."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from migrations import alembic_config
from store.tables import metadata
from tests.conftest import _pg_admin, _pg_url, _service_missing

EXPECTED_TABLES = {
    "users",
    "workflows",
    "escalation_policies",
    "recommendations",
    "draft_revisions",
    "decisions",
    "overrides",
    "confirmation_grants",
    "events",
    "jobs",
    "webhooks",
    "webhook_deliveries",
    "model_versions",
    "theme_reports",
    "trusted_documents",
    "drift_alarms",
    "api_tokens",
    "teams",
    "team_members",
    "workflow_teams",
    "admin_actions",
    "decisions_pending",
    "log_nodes",
    "log_checkpoints",
}


async def _tables_and_drift(url: str) -> tuple[set[str], list[object]]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:

            def inspect(sync_connection: sa.Connection) -> tuple[set[str], list[object]]:
                names = set(sa.inspect(sync_connection).get_table_names()) - {"alembic_version"}
                context = MigrationContext.configure(sync_connection, opts={"compare_type": True})
                return names, list(compare_metadata(context, metadata))

            return await connection.run_sync(inspect)
    finally:
        await engine.dispose()


async def _round_trip(url: str) -> None:
    config = alembic_config(url)
    await asyncio.to_thread(command.upgrade, config, "head")
    tables, drift = await _tables_and_drift(url)
    assert tables == EXPECTED_TABLES
    assert drift == [], f"the models and the migrations disagree: {drift}"

    await asyncio.to_thread(command.downgrade, config, "base")
    tables, _ = await _tables_and_drift(url)
    assert tables == set()

    await asyncio.to_thread(command.upgrade, config, "head")
    tables, drift = await _tables_and_drift(url)
    assert tables == EXPECTED_TABLES
    assert drift == []


async def test_migrations_upgrade_downgrade_and_upgrade_on_sqlite(tmp_path: Path):
    await _round_trip(f"sqlite+aiosqlite:///{tmp_path / 'migrations.db'}")


async def test_migrations_upgrade_downgrade_and_upgrade_on_postgresql():
    name = f"arbiter_migrations_{uuid.uuid4().hex[:8]}"
    try:
        await _pg_admin(f'CREATE DATABASE "{name}"')
    except Exception as error:
        _service_missing(f"PostgreSQL is not reachable: {error}")
        pytest.skip("unreachable")
    try:
        await _round_trip(_pg_url(name))
    finally:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
