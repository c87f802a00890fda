"""trusted documents: GraphQL documents registered by their SHA-256

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'trusted_documents',
        sa.Column('id', sa.String(length=71), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('operation_names', sa.JSON().with_variant(JSONB(), 'postgresql'), nullable=False),
        sa.Column('registered_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade() -> None:
    op.drop_table('trusted_documents')
