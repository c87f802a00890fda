"""Draft outcomes: the measured results the draft scorer learns from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from domain.enums import RecommendationStatus
from store.tables import recs_t

SHIPPED = [
    RecommendationStatus.APPROVED.value,
    RecommendationStatus.EDITED.value,
    RecommendationStatus.OVERRIDDEN.value,
]


class SqlOutcomes:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(self, rec_id: str, value: float, at: datetime) -> None:
        await self.session.execute(
            recs_t.update().where(recs_t.c.id == rec_id).values(outcome_value=value, outcome_at=at)
        )


@dataclass(frozen=True)
class RecordedOutcome:
    """A shipped draft and the outcome measured for it: what the draft scorer learns."""

    content: str | None
    payload: dict[str, Any]
    value: float
    recorded_at: datetime


async def outcome_rows(session: AsyncSession, workflow_id: str) -> list[RecordedOutcome]:
    """Shipped drafts with a recorded outcome, oldest outcome first."""
    c = recs_t.c
    result = await session.execute(
        sa.select(
            sa.func.coalesce(c.draft_content, c.draft_original).label("content"),
            c.payload,
            c.outcome_value.label("value"),
            c.outcome_at.label("recorded_at"),
        )
        .where(
            c.workflow_id == workflow_id,
            c.outcome_value.is_not(None),
            c.status.in_(SHIPPED),
            c.canary.is_(False),
        )
        .order_by(c.outcome_at)
    )
    return [RecordedOutcome(row.content, row.payload, row.value, row.recorded_at) for row in result]
