"""Bare baseline of a queue page: the same five statements, the JSON built by hand.

For bench/queue_page.py's query (a page of items with their workflow, policy
author, queue counts, claim reviewer and decisions with their actors) this
endpoint runs what Arbiter runs: the workflow with its policy, the page with
its total, the users, the decisions, the queue counts; and builds the same
JSON answer from the rows, with no GraphQL, no domain objects.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.requests import Request

from bench.baselines.bare import create_bare_app
from domain.enums import RecommendationStatus as Status
from domain.model import User
from store.database import Database
from store.effective_status import effective_status, status_is
from store.tables import decisions_t, policies_t, recs_t, users_t, workflows_t

STATUSES = (Status.PENDING, Status.CLAIMED, Status.APPROVED)
OPEN = ("PENDING", "CLAIMED", "FLAGGED", "AWAITING_CONFIRMATION", "NEEDS_DATA")


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


async def page(_: Request, database: Database, user: User, variables: Any) -> Any:
    now = datetime.now(UTC)
    c = recs_t.c
    async with database.read_engine.connect() as connection:
        workflow = (
            await connection.execute(
                sa.select(workflows_t, policies_t)
                .join(
                    policies_t,
                    (policies_t.c.workflow_id == workflows_t.c.id)
                    & (policies_t.c.version == workflows_t.c.policy_version),
                )
                .where(workflows_t.c.key == variables["wf"])
            )
        ).one()
        where = [
            c.workflow_id == workflow.id,
            sa.or_(*[status_is(s, now) for s in STATUSES]),
            c.canary.is_(False),
        ]
        total = sa.select(sa.func.count()).select_from(recs_t).where(*where).scalar_subquery()
        first = int(variables["first"])
        rows = list(
            await connection.execute(
                sa.select(recs_t, effective_status(now).label("seen"), total.label("total"))
                .where(*where)
                .order_by(c.due_sort, c.created_at, c.id)
                .limit(first + 1)
            )
        )
        items = rows[:first]
        ids = [r.id for r in items]
        decisions = list(
            await connection.execute(
                sa.select(decisions_t)
                .where(decisions_t.c.recommendation_id.in_(ids))
                .order_by(decisions_t.c.seq)
            )
        )
        user_ids = {d.actor_id for d in decisions if d.actor_id} | {workflow.changed_by_id}
        user_ids |= {r.claimed_by_id for r in items if r.claimed_by_id}
        names = {
            u.id: u.name
            for u in await connection.execute(
                sa.select(users_t.c.id, users_t.c.name).where(users_t.c.id.in_(user_ids))
            )
        }
        counts = list(
            await connection.execute(
                sa.select(c.tier, effective_status(now).label("seen"), sa.func.count())
                .where(c.workflow_id == workflow.id, c.status.in_(OPEN), c.canary.is_(False))
                .group_by(c.tier, sa.text("2"))
            )
        )
    by_item: dict[str, list[Any]] = {}
    for d in decisions:
        by_item.setdefault(d.recommendation_id, []).append(d)
    workflow_json = {
        "key": workflow.key,
        "policy": {
            "version": workflow.policy_version,
            "changedBy": {"name": names.get(workflow.changed_by_id)},
        },
        "queueCounts": [{"count": n} for _, _, n in counts],
    }
    live = {r.id for r in items if r.claimed_by_id and r.claim_expires_at}
    edges = []
    for r in items:
        claim = None
        if r.id in live and r.claim_expires_at.replace(tzinfo=UTC) > now:
            claim = {"reviewer": {"name": names.get(r.claimed_by_id)}}
        edges.append(
            {
                "node": {
                    "id": r.id,
                    "status": r.seen,
                    "confidence": r.confidence,
                    "payload": r.payload,
                    "createdAt": _iso(r.created_at),
                    "workflow": workflow_json,
                    "claim": claim,
                    "decisions": [
                        {
                            "verdict": d.verdict,
                            "actor": {"name": names[d.actor_id]} if d.actor_id else None,
                            "recommendation": {"id": r.id},
                        }
                        for d in by_item.get(r.id, [])
                    ],
                }
            }
        )
    return {"queue": {"totalCount": rows[0].total if rows else 0, "edges": edges}}


def create_app(database_url: str, token_cache_seconds: float) -> Starlette:
    return create_bare_app(database_url, token_cache_seconds, page)
