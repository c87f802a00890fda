"""people and teams: several bearer tokens per user, deactivation, OpenID Connect
identities, teams and the workflows they review, item assignment, and the record of
admin actions

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def _id(name: str, **kwargs: object) -> sa.Column:
    return sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=40), **kwargs)


def upgrade() -> None:
    op.create_table(
        'api_tokens',
        sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        _id('user_id', nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('token_hash'),
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index('ix_api_tokens_user_id', ['user_id'], unique=False)
    # Every user's one token so far becomes the first of their tokens.
    op.execute(
        'INSERT INTO api_tokens (token_hash, user_id, created_at) '
        'SELECT token_hash, id, created_at FROM users'
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(
            sa.Column('external_id', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True)
        )
        batch_op.create_unique_constraint('uq_users_external_id', ['external_id'])
        batch_op.drop_column('token_hash')

    op.create_table(
        'teams',
        _id('id', nullable=False),
        sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key'),
    )
    op.create_table(
        'team_members',
        _id('team_id', nullable=False),
        _id('user_id', nullable=False),
        sa.ForeignKeyConstraint(['team_id'], ['teams.id']),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('team_id', 'user_id'),
    )
    with op.batch_alter_table('team_members', schema=None) as batch_op:
        batch_op.create_index('ix_team_members_user_id', ['user_id'], unique=False)
    op.create_table(
        'workflow_teams',
        _id('workflow_id', nullable=False),
        _id('team_id', nullable=False),
        sa.ForeignKeyConstraint(['team_id'], ['teams.id']),
        sa.ForeignKeyConstraint(['workflow_id'], ['workflows.id']),
        sa.PrimaryKeyConstraint('workflow_id', 'team_id'),
    )
    with op.batch_alter_table('workflow_teams', schema=None) as batch_op:
        batch_op.create_index('ix_workflow_teams_team_id', ['team_id'], unique=False)

    with op.batch_alter_table('recommendations', schema=None) as batch_op:
        batch_op.add_column(_id('assignee_id', nullable=True))
        batch_op.add_column(_id('assigned_team_id', nullable=True))
        batch_op.create_foreign_key(
            'fk_recommendations_assignee_id_users', 'users', ['assignee_id'], ['id']
        )
        batch_op.create_foreign_key(
            'fk_recommendations_assigned_team_id_teams', 'teams', ['assigned_team_id'], ['id']
        )

    op.create_table(
        'admin_actions',
        _id('id', nullable=False),
        _id('actor_id', nullable=True),
        sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('target', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column('details', JSON, nullable=True),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['actor_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('admin_actions', schema=None) as batch_op:
        batch_op.create_index('ix_admin_actions_at', ['at', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('admin_actions', schema=None) as batch_op:
        batch_op.drop_index('ix_admin_actions_at')
    op.drop_table('admin_actions')
    with op.batch_alter_table('recommendations', schema=None) as batch_op:
        batch_op.drop_constraint('fk_recommendations_assigned_team_id_teams', type_='foreignkey')
        batch_op.drop_constraint('fk_recommendations_assignee_id_users', type_='foreignkey')
        batch_op.drop_column('assigned_team_id')
        batch_op.drop_column('assignee_id')
    with op.batch_alter_table('workflow_teams', schema=None) as batch_op:
        batch_op.drop_index('ix_workflow_teams_team_id')
    op.drop_table('workflow_teams')
    with op.batch_alter_table('team_members', schema=None) as batch_op:
        batch_op.drop_index('ix_team_members_user_id')
    op.drop_table('team_members')
    op.drop_table('teams')
    # A user keeps their oldest token that still works; users with none get a token
    # nobody holds (version 1 needs one per user).
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
    op.execute(
        'UPDATE users SET token_hash = (SELECT t.token_hash FROM api_tokens t '
        'WHERE t.user_id = users.id AND t.revoked_at IS NULL '
        'ORDER BY t.created_at LIMIT 1)'
    )
    op.execute("UPDATE users SET token_hash = 'revoked-' || id WHERE token_hash IS NULL")
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint('uq_users_external_id', type_='unique')
        batch_op.drop_column('external_id')
        batch_op.drop_column('active')
        batch_op.alter_column(
            'token_hash', existing_type=sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False
        )
        batch_op.create_unique_constraint('users_token_hash_key', ['token_hash'])
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index('ix_api_tokens_user_id')
    op.drop_table('api_tokens')
