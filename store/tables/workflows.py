"""Users, workflows and their escalation policies, and how each maps to the domain."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from domain.enums import FloorAction, ReviewerRole, Role, WorkflowKind
from domain.model import User, Workflow
from domain.policy import EscalationPolicy
from store.tables.columns import enum_field, json_field, timestamp


class UserRow(SQLModel, table=True):
    __tablename__ = "users"
    id: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=100, unique=True)
    role: Role = enum_field(Role, 16)
    created_at: datetime = timestamp()
    active: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})
    # "issuer subject" of a user who signs in with OpenID Connect.
    external_id: str | None = Field(default=None, max_length=500, unique=True)

    @classmethod
    def of(cls, user: User, external_id: str | None = None) -> UserRow:
        return cls.model_construct(
            id=user.id,
            name=user.name,
            role=user.role,
            created_at=user.created_at,
            active=user.active,
            external_id=external_id,
        )

    def to_domain(self) -> User:
        return User(
            id=self.id,
            name=self.name,
            role=self.role,
            created_at=self.created_at,
            active=self.active,
        )


class WorkflowRow(SQLModel, table=True):
    __tablename__ = "workflows"
    id: str = Field(primary_key=True, max_length=40)
    key: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    kind: WorkflowKind = enum_field(WorkflowKind, 16)
    reviewer_role: ReviewerRole = enum_field(ReviewerRole, 16)
    actions: list[str] = json_field()
    score_label: str | None = Field(default=None, max_length=200)
    created_at: datetime = timestamp()
    policy_version: int = 1
    # Head of this workflow's decision-log hash chain; locking this row serialises appends.
    chain_seq: int = 0
    chain_head: str = Field(default="0" * 64, max_length=64)
    # The hashes of the Merkle tree's root nodes at chain_seq leaves (merkle.root_nodes
    # order, 32 bytes each): what the next seal appends to, without reading the nodes.
    log_peaks: bytes | None = Field(default=None, sa_type=sa.LargeBinary)

    @classmethod
    def of(cls, workflow: Workflow) -> WorkflowRow:
        return cls.model_construct(
            id=workflow.id,
            key=workflow.key,
            name=workflow.name,
            kind=workflow.kind,
            reviewer_role=workflow.reviewer_role,
            actions=workflow.actions,
            score_label=workflow.score_label,
            created_at=workflow.created_at,
            policy_version=workflow.policy.version,
        )

    def to_domain(self, policy: EscalationPolicy, team_ids: tuple[str, ...] = ()) -> Workflow:
        return Workflow(
            id=self.id,
            key=self.key,
            name=self.name,
            kind=self.kind,
            reviewer_role=self.reviewer_role,
            actions=list(self.actions),
            score_label=self.score_label,
            created_at=self.created_at,
            policy=policy,
            team_ids=team_ids,
        )


# The policy's columns are its fields, one for one (workflow_id is the row's key).
_POLICY_FIELDS = [f.name for f in fields(EscalationPolicy) if f.name != "workflow_id"]


class PolicyRow(SQLModel, table=True):
    __tablename__ = "escalation_policies"
    workflow_id: str = Field(primary_key=True, foreign_key="workflows.id", max_length=40)
    version: int = Field(primary_key=True)
    auto_approve_at: float
    analyst_at: float
    senior_at: float
    below_floor: FloorAction = enum_field(FloorAction, 32)
    analyst_sla_seconds: int
    senior_sla_seconds: int
    high_stakes_at: float | None = None
    audit_sample_rate: float
    min_dwell_ms: int
    canary_rate: float
    max_daily_decisions_per_reviewer: int | None = None
    undo_seconds: int
    reviews_required: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    agreement_required: int | None = None
    high_stakes_reviews_required: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    blind_review: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})
    note: str | None = Field(default=None, max_length=1000)
    changed_by_id: str | None = Field(default=None, foreign_key="users.id", max_length=40)
    changed_at: datetime = timestamp()

    @classmethod
    def of(cls, workflow_id: str, policy: EscalationPolicy) -> PolicyRow:
        assert policy.changed_at is not None
        values: dict[str, Any] = {name: getattr(policy, name) for name in _POLICY_FIELDS}
        return cls.model_construct(**values, workflow_id=workflow_id)

    def to_domain(self) -> EscalationPolicy:
        values: dict[str, Any] = {name: getattr(self, name) for name in _POLICY_FIELDS}
        return EscalationPolicy(**values, workflow_id=self.workflow_id)
