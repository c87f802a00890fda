"""Which teams review which workflows: read with every workflow."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from store.tables import workflow_teams_t


async def workflow_team_ids(
    session: AsyncSession, workflow_ids: Sequence[str]
) -> dict[str, tuple[str, ...]]:
    """Each workflow's teams, by id, in a stable order; workflows without teams are absent."""
    if not workflow_ids:
        return {}
    rows = await session.execute(
        sa.select(workflow_teams_t.c.workflow_id, workflow_teams_t.c.team_id)
        .where(workflow_teams_t.c.workflow_id.in_(workflow_ids))
        .order_by(workflow_teams_t.c.workflow_id, workflow_teams_t.c.team_id)
    )
    teams: dict[str, list[str]] = {}
    for workflow_id, team_id in rows:
        teams.setdefault(workflow_id, []).append(team_id)
    return {workflow_id: tuple(ids) for workflow_id, ids in teams.items()}
