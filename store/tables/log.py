"""The verifiable log's tables: decisions waiting to be sealed, the Merkle tree's
stored nodes, and signed checkpoints."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from store.tables.columns import BigId, timestamp


class PendingDecisionRow(SQLModel, table=True):
    """A committed decision not yet sealed into its workflow's log.

    A decision's own transaction writes it here, so that concurrent decisions of one
    workflow never wait for each other; the log sealer then moves every pending
    decision of the workflow into `decisions` in one transaction (group commit),
    in `arrival` order.
    """

    __tablename__ = "decisions_pending"
    arrival: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    workflow_id: str = Field(foreign_key="workflows.id", max_length=40, index=True)
    decision_id: str = Field(max_length=40, unique=True)
    recommendation_id: str = Field(max_length=40, index=True)
    actor_id: str | None = Field(default=None, max_length=40)
    verdict: str = Field(max_length=24)
    created_at: datetime = timestamp()
    record: str = Field(sa_type=sa.Text)
    """The whole decision as JSON (store.log_pending)."""


class LogNodeRow(SQLModel, table=True):
    """A perfect subtree of a workflow's Merkle tree: (level, idx) covers leaves
    [idx * 2**level, (idx + 1) * 2**level); level 0 holds the leaf hashes. Written once."""

    __tablename__ = "log_nodes"
    workflow_id: str = Field(primary_key=True, max_length=40)
    level: int = Field(primary_key=True, sa_type=sa.SmallInteger)
    idx: int = Field(primary_key=True, sa_type=sa.BigInteger)
    hash: bytes = Field(sa_type=sa.LargeBinary(32))


class LogCheckpointRow(SQLModel, table=True):
    """A signed tree head: the note (C2SP tlog-checkpoint) and its Ed25519 signature."""

    __tablename__ = "log_checkpoints"
    workflow_id: str = Field(primary_key=True, foreign_key="workflows.id", max_length=40)
    tree_size: int = Field(primary_key=True, sa_type=sa.BigInteger)
    root_hash: str = Field(max_length=64)
    note: str = Field(sa_type=sa.Text)
    signature: str = Field(max_length=100)
    event_id: str = Field(max_length=40, unique=True)
    """The id of the CHECKPOINT event webhooks deliver for it."""
    created_at: datetime = timestamp()
