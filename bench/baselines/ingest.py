"""Bare baseline of ingestion: the same rows as `submitRecommendations`, by executemany.

For a batch of items this endpoint writes what Arbiter writes for items the
ladder sends to the analyst queue: one recommendations row and one outbox
(events) row per item, each with the same columns and payload, by two raw
executemany INSERTs in one transaction. No validation, no routing logic, no
duplicate check: the floor for storing the same data through the same stack.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.requests import Request

from bench.baselines.bare import create_bare_app
from domain.model import User
from store.database import Database
from store.tables import events_t, recs_t, workflows_t


async def submit(_: Request, database: Database, user: User, variables: Any) -> Any:
    now = datetime.now(UTC)
    due = now + timedelta(hours=4)
    key = str(variables["wf"])
    async with database.write_engine.begin() as connection:
        workflow = (
            await connection.execute(
                sa.select(workflows_t.c.id, workflows_t.c.policy_version).where(
                    workflows_t.c.key == key
                )
            )
        ).one()
        recs, events = [], []
        for item in variables["items"]:
            rec_id = f"rec_{uuid.uuid4().hex}"
            row = {
                "id": rec_id,
                "workflow_id": workflow.id,
                "external_id": item.get("externalId"),
                "subject": item.get("subject"),
                "payload": item["payload"],
                "proposed_action": item["proposedAction"],
                "confidence": float(item["confidence"]),
                "explanation": [],
                "stakes": item.get("stakes"),
                "model_version": None,
                "draft_original": None,
                "draft_content": None,
                "draft_original_score": None,
                "draft_score": None,
                "tier": "ANALYST_REVIEW",
                "status": "PENDING",
                "sampled_for_audit": False,
                "version": 1,
                "claimed_by_id": None,
                "claimed_at": None,
                "claim_expires_at": None,
                "flagged": False,
                "confirm_until": None,
                "sla_due_at": due,
                "due_sort": due,
                "sla_breached": False,
                "final_action": None,
                "created_at": now,
                "decided_at": None,
                "policy_version": workflow.policy_version,
                "canary": False,
                "canary_of": None,
            }
            recs.append(row)
            snapshot = {k: v for k, v in row.items() if k != "policy_version"}
            for name in ("sla_due_at", "due_sort", "created_at"):
                snapshot[name] = row[name].isoformat()
            events.append(
                {
                    "id": f"evt_{uuid.uuid4().hex}",
                    "kind": "ADDED",
                    "workflow_id": workflow.id,
                    "recommendation_id": rec_id,
                    "tier": "ANALYST_REVIEW",
                    "previous_tier": None,
                    "actor_id": user.id,
                    "decision_id": None,
                    "at": now,
                    "recommendation": snapshot,
                    # No publisher follows this endpoint: its events are stored published,
                    # or Arbiter's relay, in the next round on the same database, would
                    # publish them all (it did: every round after the first was slower).
                    "published_at": now,
                }
            )
        await connection.execute(recs_t.insert(), recs)
        await connection.execute(events_t.insert(), events)
    return {
        "submitRecommendations": {
            "__typename": "SubmitSuccess",
            "created": len(recs),
            "duplicates": 0,
        }
    }


def create_app(database_url: str, token_cache_seconds: float) -> Starlette:
    return create_bare_app(database_url, token_cache_seconds, submit)
