"""several reviews per item: the policy's review rule, each item's rule, proposer,
consensus and reviews, and decisions that are votes

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("escalation_policies", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reviews_required", sa.Integer(), server_default="1", nullable=False)
        )
        batch_op.add_column(sa.Column("agreement_required", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "high_stakes_reviews_required", sa.Integer(), server_default="1", nullable=False
            )
        )
        batch_op.add_column(
            sa.Column("blind_review", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
    with op.batch_alter_table("recommendations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reviews_required", sa.Integer(), server_default="1", nullable=False)
        )
        batch_op.add_column(
            sa.Column("agreement_required", sa.Integer(), server_default="1", nullable=False)
        )
        batch_op.add_column(
            sa.Column("four_eyes", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("submitted_by_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True)
        )
        batch_op.add_column(
            sa.Column("consensus_state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True)
        )
        batch_op.add_column(sa.Column("reviews", JSON, nullable=True))
        batch_op.add_column(sa.Column("voters", sa.Text(), nullable=True))
        batch_op.create_foreign_key(
            "fk_recommendations_submitted_by_id_users", "users", ["submitted_by_id"], ["id"]
        )
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("vote", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_column("vote")
    with op.batch_alter_table("recommendations", schema=None) as batch_op:
        batch_op.drop_constraint("fk_recommendations_submitted_by_id_users", type_="foreignkey")
        batch_op.drop_column("voters")
        batch_op.drop_column("reviews")
        batch_op.drop_column("consensus_state")
        batch_op.drop_column("submitted_by_id")
        batch_op.drop_column("four_eyes")
        batch_op.drop_column("agreement_required")
        batch_op.drop_column("reviews_required")
    with op.batch_alter_table("escalation_policies", schema=None) as batch_op:
        batch_op.drop_column("blind_review")
        batch_op.drop_column("high_stakes_reviews_required")
        batch_op.drop_column("agreement_required")
        batch_op.drop_column("reviews_required")
