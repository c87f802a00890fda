"""Reading whole rows as their typed table classes.

Rows are loaded through the ORM only to get typed objects; nothing is written back
through it (repositories write with Core statements, and a compare-and-swap update
must be the only writer of an item). Every load asks for fresh values
(`populate_existing`): the session's identity map would otherwise hand back a row
as it was first read, from before an update earlier in the same unit of work.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

R = TypeVar("R")

# Execution options for any ORM load: fresh values, never the identity map's.
FRESH = {"populate_existing": True}


async def load_all(
    session: AsyncSession, query: sa.Select[R], params: Mapping[str, Any] | None = None
) -> Sequence[R]:
    """Every row the query selects (with `params` for its bound parameters), as its table
    class."""
    result = await session.execute(query, params, execution_options=FRESH)
    return result.scalars().all()


async def load_first(session: AsyncSession, query: sa.Select[R]) -> R | None:
    """The first row the query selects, as its table class, or None."""
    result = await session.execute(query, execution_options=FRESH)
    return result.scalars().first()
