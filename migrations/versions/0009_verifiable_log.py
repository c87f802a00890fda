"""the verifiable log: decisions waiting to be sealed, each decision's leaf and model
version, the Merkle tree's stored nodes and signed checkpoints; existing decisions get
their leaves and nodes

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 05:00:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

from domain.audit import leaf_text
from domain.decisions import Decision
from domain.enums import Tier, Verdict
from domain.merkle import append_leaves, leaf_hash, root_nodes

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5_000
FK_NAMES = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}


def upgrade() -> None:
    bind = op.get_bind()
    big_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "decisions_pending",
        sa.Column("arrival", big_id, nullable=False, autoincrement=True),
        sa.Column("workflow_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("decision_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column(
            "recommendation_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False
        ),
        sa.Column("actor_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("verdict", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("record", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["workflow_id"], ["workflows.id"]),
        sa.PrimaryKeyConstraint("arrival"),
        sa.UniqueConstraint("decision_id"),
    )
    op.create_index("ix_decisions_pending_workflow_id", "decisions_pending", ["workflow_id"])
    op.create_index(
        "ix_decisions_pending_recommendation_id", "decisions_pending", ["recommendation_id"]
    )
    op.create_table(
        "log_nodes",
        sa.Column("workflow_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("idx", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
        sa.PrimaryKeyConstraint("workflow_id", "level", "idx"),
    )
    op.create_table(
        "log_checkpoints",
        sa.Column("workflow_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("signature", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("event_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["workflow_id"], ["workflows.id"]),
        sa.PrimaryKeyConstraint("workflow_id", "tree_size"),
        sa.UniqueConstraint("event_id"),
    )
    with op.batch_alter_table("workflows", schema=None) as batch_op:
        batch_op.add_column(sa.Column("log_peaks", sa.LargeBinary(), nullable=True))
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("model_version", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True)
        )
        batch_op.add_column(sa.Column("leaf", sa.Text(), server_default="", nullable=False))
    if bind.dialect.name == "postgresql":
        op.drop_constraint("overrides_decision_id_fkey", "overrides", type_="foreignkey")
    else:
        with op.batch_alter_table("overrides", naming_convention=FK_NAMES) as batch_op:
            batch_op.drop_constraint("fk_overrides_decision_id_decisions", type_="foreignkey")
    op.create_index("ix_overrides_decision_id", "overrides", ["decision_id"])
    _backfill(bind)
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.alter_column("leaf", server_default=None)


def _backfill(bind: sa.Connection) -> None:
    """Give every existing decision its leaf and model version, and build each tree."""
    meta = sa.MetaData()
    decisions = sa.Table("decisions", meta, autoload_with=bind)
    recs = sa.Table("recommendations", meta, autoload_with=bind)
    nodes = sa.Table("log_nodes", meta, autoload_with=bind)
    workflow_ids = bind.execute(sa.select(decisions.c.workflow_id).distinct()).scalars().all()
    for workflow_id in workflow_ids:
        size, peaks, after = 0, {}, 0
        while True:
            rows = bind.execute(
                sa.select(decisions, recs.c.model_version.label("rec_model_version"))
                .join(recs, recs.c.id == decisions.c.recommendation_id)
                .where(decisions.c.workflow_id == workflow_id, decisions.c.seq > after)
                .order_by(decisions.c.seq)
                .limit(BATCH)
            ).all()
            if not rows:
                break
            leaves = [(row, leaf_text(_decision(row))) for row in rows]
            bind.execute(
                decisions.update()
                .where(decisions.c.id == sa.bindparam("b_id"))
                .values(leaf=sa.bindparam("b_leaf"), model_version=sa.bindparam("b_model")),
                [
                    {"b_id": row.id, "b_leaf": leaf, "b_model": row.rec_model_version}
                    for row, leaf in leaves
                ],
            )
            written, _ = append_leaves(size, peaks, [leaf_hash(leaf.encode()) for _, leaf in leaves])
            bind.execute(
                nodes.insert(),
                [
                    {"workflow_id": workflow_id, "level": level, "idx": idx, "hash": value}
                    for (level, idx), value in written
                ],
            )
            known = dict(peaks) | {node: value for node, value in written}
            size += len(rows)
            peaks = {node: known[node] for node in root_nodes(size)}
            after = rows[-1].seq


def _decision(row: sa.Row) -> Decision:
    created_at = row.created_at
    if created_at.tzinfo is None:
        created_at = created_at.replace(tzinfo=UTC)
    tags = row.reason_tags
    if isinstance(tags, str):
        import json

        tags = json.loads(tags)
    return Decision(
        id=row.id,
        workflow_id=row.workflow_id,
        recommendation_id=row.recommendation_id,
        verdict=Verdict(row.verdict),
        automated=row.automated,
        actor_id=row.actor_id,
        proposed_action=row.proposed_action,
        final_action=row.final_action,
        confidence=row.confidence,
        tier=Tier(row.tier),
        policy_version=row.policy_version,
        created_at=created_at.astimezone(UTC) if isinstance(created_at, datetime) else created_at,
        reason=row.reason,
        reason_tags=list(tags or []),
        edited_content=row.edited_content,
        dwell_ms=row.dwell_ms,
        reverts_id=row.reverts_id,
        vote=bool(row.vote),
        model_version=row.rec_model_version,
        seq=row.seq,
    )


def downgrade() -> None:
    op.drop_index("ix_overrides_decision_id", table_name="overrides")
    with op.batch_alter_table("overrides", naming_convention=FK_NAMES) as batch_op:
        batch_op.create_foreign_key(
            "fk_overrides_decision_id_decisions", "decisions", ["decision_id"], ["id"]
        )
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_column("leaf")
        batch_op.drop_column("model_version")
    with op.batch_alter_table("workflows", schema=None) as batch_op:
        batch_op.drop_column("log_peaks")
    op.drop_table("log_checkpoints")
    op.drop_table("log_nodes")
    op.drop_index("ix_decisions_pending_recommendation_id", table_name="decisions_pending")
    op.drop_index("ix_decisions_pending_workflow_id", table_name="decisions_pending")
    op.drop_table("decisions_pending")
