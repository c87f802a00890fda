"""A separate process that races to approve the same items (used by test_exactly_once)."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

from api.services import Services
from api.settings import Settings
from domain.enums import Verdict
from domain.errors import ConflictError
from domain.usecases.decide import DecisionRequest, decide
from store.database import connect
from store.people import SqlUsers


async def _race(url: str, user_id: str, item_ids: list[str], rounds: int) -> dict[str, int]:
    database = connect(url, pool_size=10, max_overflow=10)
    services = Services(settings=Settings(database_url=url), database=database)
    try:
        async with services.read_session() as session:
            user = await SqlUsers(session).get(user_id)
        assert user is not None
        outcomes: Counter[str] = Counter()

        async def approve(item_id: str) -> None:
            try:
                decided = await services.run(
                    decide, user, DecisionRequest(item_id, Verdict.APPROVE), timedelta(minutes=5)
                )
                outcomes[f"won:{decided.recommendation.id}"] += 1
            except ConflictError:
                outcomes["conflict"] += 1

        await asyncio.gather(*(approve(i) for _ in range(rounds) for i in item_ids))
        return dict(outcomes)
    finally:
        await database.dispose()


def race(url: str, user_id: str, item_ids: list[str], rounds: int) -> dict[str, int]:
    """Approve every item `rounds` times at once; count wins per item and conflicts."""
    return asyncio.run(_race(url, user_id, item_ids, rounds))
