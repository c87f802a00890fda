"""drift alarms: one row per episode of a served model's drift on a tier

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-20 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text('cleared_at IS NULL')


def upgrade() -> None:
    op.create_table(
        'drift_alarms',
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('workflow_id', sa.String(length=40), nullable=False),
        sa.Column('model_id', sa.String(length=40), nullable=False),
        sa.Column('tier', sa.String(length=16), nullable=False),
        sa.Column('message', sa.Text(), nullable=False),
        sa.Column('raised_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('cleared_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['model_id'], ['model_versions.id']),
        sa.ForeignKeyConstraint(['workflow_id'], ['workflows.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('drift_alarms', schema=None) as batch_op:
        batch_op.create_index('ix_drift_alarms_workflow_id', ['workflow_id'], unique=False)
        batch_op.create_index(
            'uq_drift_alarms_open',
            ['model_id', 'tier'],
            unique=True,
            sqlite_where=OPEN,
            postgresql_where=OPEN,
        )


def downgrade() -> None:
    with op.batch_alter_table('drift_alarms', schema=None) as batch_op:
        batch_op.drop_index('uq_drift_alarms_open', sqlite_where=OPEN, postgresql_where=OPEN)
        batch_op.drop_index('ix_drift_alarms_workflow_id')
    op.drop_table('drift_alarms')
