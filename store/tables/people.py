"""Bearer tokens, teams and their members and workflows, and the record of admin actions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from domain.admin_actions import AdminAction
from domain.teams import Team
from store.tables.columns import json_field, timestamp


class ApiTokenRow(SQLModel, table=True):
    """A user's bearer token, stored only as its digest; a user may hold several."""

    __tablename__ = "api_tokens"
    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(foreign_key="users.id", index=True, max_length=40)
    created_at: datetime = timestamp()
    expires_at: datetime | None = timestamp(nullable=True)
    revoked_at: datetime | None = timestamp(nullable=True)


class TeamRow(SQLModel, table=True):
    __tablename__ = "teams"
    id: str = Field(primary_key=True, max_length=40)
    key: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    created_at: datetime = timestamp()

    @classmethod
    def of(cls, team: Team) -> TeamRow:
        return cls.model_construct(
            id=team.id, key=team.key, name=team.name, created_at=team.created_at
        )

    def to_domain(self, member_ids: list[str]) -> Team:
        return Team(
            id=self.id,
            key=self.key,
            name=self.name,
            created_at=self.created_at,
            member_ids=member_ids,
        )


class TeamMemberRow(SQLModel, table=True):
    __tablename__ = "team_members"
    team_id: str = Field(primary_key=True, foreign_key="teams.id", max_length=40)
    user_id: str = Field(primary_key=True, foreign_key="users.id", index=True, max_length=40)


class WorkflowTeamRow(SQLModel, table=True):
    __tablename__ = "workflow_teams"
    workflow_id: str = Field(primary_key=True, foreign_key="workflows.id", max_length=40)
    team_id: str = Field(primary_key=True, foreign_key="teams.id", index=True, max_length=40)


class AdminActionRow(SQLModel, table=True):
    __tablename__ = "admin_actions"
    __table_args__ = (sa.Index("ix_admin_actions_at", "at", "id"),)
    id: str = Field(primary_key=True, max_length=40)
    actor_id: str | None = Field(default=None, foreign_key="users.id", max_length=40)
    action: str = Field(max_length=64)
    target: str | None = Field(default=None, max_length=200)
    details: dict[str, Any] | None = json_field(nullable=True)
    at: datetime = timestamp()

    @classmethod
    def of(cls, action: AdminAction) -> AdminActionRow:
        return cls.model_construct(
            id=action.id,
            actor_id=action.actor_id,
            action=action.action,
            target=action.target,
            details=action.details,
            at=action.at,
        )

    def to_domain(self) -> AdminAction:
        return AdminAction(
            id=self.id,
            actor_id=self.actor_id,
            action=self.action,
            target=self.target,
            details=dict(self.details) if self.details is not None else None,
            at=self.at,
        )
