"""Fixtures for the load and fault tests: a fresh PostgreSQL database per test.

Each test gets its own database, copied from a template migrated once per run, so
that `arbiter audit verify` sees only the test's own workflows and can be asserted
strictly. The scale comes from environment variables (see tests/reliability/scale.py).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest_asyncio

from api.cli import migrate
from tests.conftest import PG_ADMIN_URL, _pg_admin, _pg_url, _service_missing


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def reliability_template() -> AsyncIterator[str]:
    """A migrated database that fresh_pg copies (CREATE DATABASE ... TEMPLATE)."""
    name = f"arbiter_rel_tmpl_{uuid.uuid4().hex[:8]}"
    try:
        await _pg_admin(f'CREATE DATABASE "{name}"')
    except (TimeoutError, OSError, asyncpg.PostgresError) as error:
        _service_missing(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {error}")
    await asyncio.to_thread(migrate, _pg_url(name))
    yield name
    await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest_asyncio.fixture(loop_scope="session")
async def fresh_pg(reliability_template: str) -> AsyncIterator[str]:
    """A postgresql+asyncpg:// URL of a migrated database of this test's own."""
    name = f"arbiter_rel_{uuid.uuid4().hex[:10]}"
    await _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{reliability_template}"')
    yield _pg_url(name)
    await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
