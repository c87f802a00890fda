"""Bare baseline of the decision path: one transaction per decision, as Arbiter was
before group commit.

The statements Arbiter issued for an approval then, written by hand with
SQLAlchemy Core on the same engines: read the item, read its workflow with the
current policy, a conditional UPDATE of the item (status and version), INSERT
the outbox event, read the workflow's active webhooks, lock and advance the
workflow's chain head (UPDATE ... RETURNING), store the new head hash and the
decision with its leaf (one statement on PostgreSQL, two on SQLite); COMMIT. No
Merkle tree and no checkpoint: Arbiter now also keeps those, sealed by group commit.
The answer is the same small JSON as Arbiter's.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.requests import Request

from bench.baselines.bare import create_bare_app
from domain.model import User
from store.database import Database
from store.tables import decisions_t, events_t, policies_t, recs_t, webhooks_t, workflows_t


async def approve(_: Request, database: Database, user: User, variables: Any) -> Any:
    rec_id = str(variables["id"])
    now = datetime.now(UTC)
    async with database.write_engine.begin() as connection:
        item = (await connection.execute(sa.select(recs_t).where(recs_t.c.id == rec_id))).one()
        workflow = (
            await connection.execute(
                sa.select(workflows_t, policies_t)
                .join(
                    policies_t,
                    (policies_t.c.workflow_id == workflows_t.c.id)
                    & (policies_t.c.version == workflows_t.c.policy_version),
                )
                .where(workflows_t.c.id == item.workflow_id)
            )
        ).one()
        updated = await connection.execute(
            sa.update(recs_t)
            .where(
                recs_t.c.id == rec_id,
                recs_t.c.version == item.version,
                recs_t.c.status == "PENDING",
            )
            .values(
                status="APPROVED",
                version=item.version + 1,
                final_action=item.proposed_action,
                decided_at=now,
                claimed_by_id=None,
                claimed_at=None,
                claim_expires_at=None,
            )
        )
        if updated.rowcount != 1:
            return {"approve": {"__typename": "Conflict", "message": "decided already"}}
        decision_id = f"dec_{uuid.uuid4().hex}"
        await connection.execute(
            sa.insert(events_t)
            .values(
                id=f"evt_{uuid.uuid4().hex}",
                kind="DECIDED",
                workflow_id=item.workflow_id,
                recommendation_id=rec_id,
                tier=item.tier,
                actor_id=user.id,
                decision_id=decision_id,
                at=now,
                recommendation={"id": rec_id, "status": "APPROVED", "version": item.version + 1},
                published_at=now,  # no publisher follows (as in bench/baselines/ingest.py)
            )
            .returning(events_t.c.seq)
        )
        await connection.execute(
            sa.select(webhooks_t).where(
                webhooks_t.c.workflow_id == item.workflow_id, webhooks_t.c.active.is_(True)
            )
        )
        # Last, as Arbiter does: lock the chain head by advancing it, then the record.
        head = (
            await connection.execute(
                sa.update(workflows_t)
                .where(workflows_t.c.id == item.workflow_id)
                .values(chain_seq=workflows_t.c.chain_seq + 1)
                .returning(workflows_t.c.chain_seq, workflows_t.c.chain_head)
            )
        ).one()
        record = {
            "id": decision_id,
            "workflow_id": item.workflow_id,
            "seq": head.chain_seq,
            "recommendation_id": rec_id,
            "verdict": "APPROVE",
            "automated": False,
            "actor_id": user.id,
            "proposed_action": item.proposed_action,
            "final_action": item.proposed_action,
            "confidence": item.confidence,
            "tier": item.tier,
            "policy_version": workflow.policy_version,
            "reason": None,
            "reason_tags": [],
            "edited_content": None,
            "dwell_ms": None,
            "reverts_id": None,
            "created_at": now,
        }
        canonical = json.dumps(record, sort_keys=True, default=str, separators=(",", ":"))
        audit_hash = hashlib.sha256((head.chain_head + canonical).encode()).hexdigest()
        new_head = (
            sa.update(workflows_t)
            .where(workflows_t.c.id == item.workflow_id)
            .values(chain_head=audit_hash)
        )
        # The leaf of the Merkle tree is the record plus the model version; this baseline
        # stores it but keeps no tree (the one-transaction design before group commit).
        leaf = json.dumps(
            {**record, "model_version": None}, sort_keys=True, default=str, separators=(",", ":")
        )
        insert = sa.insert(decisions_t).values(
            **record, vote=False, prev_hash=head.chain_head, audit_hash=audit_hash, leaf=leaf
        )
        if connection.dialect.name == "postgresql":
            await connection.execute(
                insert.add_cte(new_head.returning(workflows_t.c.id).cte("new_head"))
            )
        else:
            await connection.execute(new_head)
            await connection.execute(insert)
    return {"approve": {"__typename": "DecisionSuccess", "decision": {"id": decision_id}}}


def create_app(database_url: str, token_cache_seconds: float) -> Starlette:
    return create_bare_app(database_url, token_cache_seconds, approve)
