"""SQLModel tables. Only the store sees these; the rest of Arbiter sees domain objects."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

JsonType = sa.JSON().with_variant(JSONB(), "postgresql")


def _ts(nullable: bool = False, index: bool = False) -> Any:
    return Field(sa_type=sa.DateTime(timezone=True), nullable=nullable, index=index)


def _json(nullable: bool = False) -> Any:
    return Field(sa_type=JsonType, nullable=nullable)


class UserRow(SQLModel, table=True):
    __tablename__ = "users"
    id: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=100, unique=True)
    role: str = Field(max_length=16)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = _ts()


class WorkflowRow(SQLModel, table=True):
    __tablename__ = "workflows"
    id: str = Field(primary_key=True, max_length=40)
    key: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=16)
    reviewer_role: str = Field(max_length=16)
    actions: list[str] = _json()
    score_label: str | None = Field(default=None, max_length=200)
    created_at: datetime = _ts()
    policy_version: int = 1
    # Head of this workflow's decision-log hash chain; locking this row serialises appends.
    chain_seq: int = 0
    chain_head: str = Field(default="0" * 64, max_length=64)


class PolicyRow(SQLModel, table=True):
    __tablename__ = "escalation_policies"
    workflow_id: str = Field(primary_key=True, foreign_key="workflows.id", max_length=40)
    version: int = Field(primary_key=True)
    auto_approve_at: float
    analyst_at: float
    senior_at: float
    below_floor: str = Field(max_length=32)
    analyst_sla_seconds: int
    senior_sla_seconds: int
    high_stakes_at: float | None = None
    audit_sample_rate: float
    min_dwell_ms: int
    canary_rate: float
    max_daily_decisions_per_reviewer: int | None = None
    undo_seconds: int
    note: str | None = Field(default=None, max_length=1000)
    changed_by_id: str | None = Field(default=None, foreign_key="users.id", max_length=40)
    changed_at: datetime = _ts()


class RecommendationRow(SQLModel, table=True):
    __tablename__ = "recommendations"
    __table_args__ = (
        sa.UniqueConstraint("workflow_id", "external_id", name="uq_recommendations_external_id"),
        # The queue order and the claim look-up: by status and tier, most urgent first.
        sa.Index(
            "ix_recommendations_queue",
            "workflow_id",
            "status",
            "tier",
            "due_sort",
            "created_at",
            "id",
        ),
        sa.Index("ix_recommendations_claim_expiry", "status", "claim_expires_at"),
    )
    id: str = Field(primary_key=True, max_length=40)
    workflow_id: str = Field(foreign_key="workflows.id", max_length=40)
    external_id: str | None = Field(default=None, max_length=200)
    subject: str | None = Field(default=None, max_length=500)
    payload: dict[str, Any] = _json()
    proposed_action: str = Field(max_length=200)
    confidence: float
    explanation: list[dict[str, Any]] = _json()
    stakes: float | None = None
    model_version: str | None = Field(default=None, max_length=200)
    draft_original: str | None = Field(default=None, sa_type=sa.Text)
    draft_content: str | None = Field(default=None, sa_type=sa.Text)
    draft_original_score: float | None = None
    draft_score: float | None = None
    tier: str = Field(max_length=16)
    status: str = Field(max_length=24)
    sampled_for_audit: bool = False
    version: int = 1
    claimed_by_id: str | None = Field(default=None, foreign_key="users.id", max_length=40)
    claimed_at: datetime | None = _ts(nullable=True)
    claim_expires_at: datetime | None = _ts(nullable=True)
    flagged: bool = False
    # When an AWAITING_CONFIRMATION item's outstanding token lapses.
    confirm_until: datetime | None = _ts(nullable=True)
    sla_due_at: datetime | None = _ts(nullable=True)
    # sla_due_at, or a far-future sentinel: NULLs sort differently on SQLite and PostgreSQL.
    due_sort: datetime = _ts()
    sla_breached: bool = False
    final_action: str | None = Field(default=None, max_length=200)
    created_at: datetime = _ts()
    decided_at: datetime | None = _ts(nullable=True)
    policy_version: int = 1
    # A known-wrong copy of a past overridden item, handed to one reviewer as a check.
    canary: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    canary_of: str | None = Field(default=None, max_length=40)
    # What actually happened after the decision (reported later by the service).
    outcome_value: float | None = None
    outcome_at: datetime | None = _ts(nullable=True)


class DraftRevisionRow(SQLModel, table=True):
    __tablename__ = "draft_revisions"
    id: int | None = Field(default=None, primary_key=True)
    recommendation_id: str = Field(foreign_key="recommendations.id", index=True, max_length=40)
    content: str = Field(sa_type=sa.Text)
    predicted_score: float | None = None
    author_id: str | None = Field(default=None, foreign_key="users.id", max_length=40)
    created_at: datetime = _ts()


class DecisionRow(SQLModel, table=True):
    __tablename__ = "decisions"
    __table_args__ = (
        sa.UniqueConstraint("workflow_id", "seq", name="uq_decisions_chain"),
        sa.Index("ix_decisions_log", "workflow_id", "created_at", "seq"),
    )
    id: str = Field(primary_key=True, max_length=40)
    workflow_id: str = Field(foreign_key="workflows.id", max_length=40)
    seq: int
    recommendation_id: str = Field(foreign_key="recommendations.id", index=True, max_length=40)
    verdict: str = Field(max_length=24)
    automated: bool
    actor_id: str | None = Field(default=None, foreign_key="users.id", max_length=40)
    proposed_action: str = Field(max_length=200)
    final_action: str | None = Field(default=None, max_length=200)
    confidence: float
    tier: str = Field(max_length=16)
    policy_version: int
    reason: str | None = Field(default=None, sa_type=sa.Text)
    reason_tags: list[str] = _json()
    edited_content: str | None = Field(default=None, sa_type=sa.Text)
    dwell_ms: int | None = None
    reverts_id: str | None = Field(default=None, max_length=40, index=True)
    created_at: datetime = _ts()
    prev_hash: str = Field(max_length=64)
    audit_hash: str = Field(max_length=64)


class OverrideRow(SQLModel, table=True):
    __tablename__ = "overrides"
    __table_args__ = (sa.Index("ix_overrides_log", "workflow_id", "created_at", "id"),)
    id: str = Field(primary_key=True, max_length=40)
    workflow_id: str = Field(foreign_key="workflows.id", max_length=40)
    recommendation_id: str = Field(foreign_key="recommendations.id", index=True, max_length=40)
    decision_id: str = Field(foreign_key="decisions.id", max_length=40)
    proposed_action: str = Field(max_length=200)
    chosen_action: str = Field(max_length=200)
    confidence: float
    reason: str = Field(sa_type=sa.Text)
    reviewer_id: str = Field(foreign_key="users.id", max_length=40)
    theme: str | None = Field(default=None, max_length=200)
    created_at: datetime = _ts()


class ConfirmationGrantRow(SQLModel, table=True):
    __tablename__ = "confirmation_grants"
    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(foreign_key="users.id", max_length=40)
    recommendation_id: str = Field(foreign_key="recommendations.id", index=True, max_length=40)
    version: int
    verb: str = Field(max_length=120)
    expires_at: datetime = _ts()
    used_at: datetime | None = _ts(nullable=True)


BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class EventRow(SQLModel, table=True):
    """The outbox: every queue event, written with the change it describes."""

    __tablename__ = "events"
    __table_args__ = (sa.Index("ix_events_unpublished", "published_at", "seq"),)
    seq: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    id: str = Field(max_length=40, unique=True)
    kind: str = Field(max_length=16)
    workflow_id: str = Field(foreign_key="workflows.id", max_length=40)
    recommendation_id: str = Field(max_length=40, index=True)
    tier: str = Field(max_length=16)
    previous_tier: str | None = Field(default=None, max_length=16)
    actor_id: str | None = Field(default=None, max_length=40)
    decision_id: str | None = Field(default=None, max_length=40)
    at: datetime = _ts()
    recommendation: dict[str, Any] = _json()
    published_at: datetime | None = _ts(nullable=True)


class JobRow(SQLModel, table=True):
    __tablename__ = "jobs"
    __table_args__ = (sa.Index("ix_jobs_state", "state", "kind", "created_at"),)
    id: str = Field(primary_key=True, max_length=40)
    kind: str = Field(max_length=24)
    state: str = Field(max_length=16)
    progress: float = 0.0
    message: str | None = Field(default=None, sa_type=sa.Text)
    result: dict[str, Any] | None = _json(nullable=True)
    args: dict[str, Any] = _json()
    created_at: datetime = _ts()
    started_at: datetime | None = _ts(nullable=True)
    finished_at: datetime | None = _ts(nullable=True)
    heartbeat_at: datetime | None = _ts(nullable=True)
    attempts: int = 0


class WebhookRow(SQLModel, table=True):
    __tablename__ = "webhooks"
    id: str = Field(primary_key=True, max_length=40)
    workflow_id: str = Field(foreign_key="workflows.id", index=True, max_length=40)
    url: str = Field(max_length=2000)
    events: list[str] = _json()
    secret: str = Field(max_length=100)
    active: bool = True
    created_at: datetime = _ts()
    deleted_at: datetime | None = _ts(nullable=True)


class WebhookDeliveryRow(SQLModel, table=True):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        sa.UniqueConstraint("webhook_id", "event_id", name="uq_webhook_deliveries_event"),
        sa.Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    )
    id: str = Field(primary_key=True, max_length=40)
    webhook_id: str = Field(foreign_key="webhooks.id", index=True, max_length=40)
    event_id: str = Field(max_length=40, index=True)
    event_kind: str = Field(max_length=16)
    status: str = Field(max_length=16)
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    last_attempt_at: datetime | None = _ts(nullable=True)
    delivered_at: datetime | None = _ts(nullable=True)
    next_attempt_at: datetime | None = _ts(nullable=True)
    created_at: datetime = _ts()


class ModelVersionRow(SQLModel, table=True):
    """A trained model: LightGBM text, its feature spec and calibration, and how it fared."""

    __tablename__ = "model_versions"
    __table_args__ = (
        sa.UniqueConstraint("workflow_id", "version", name="uq_model_versions_version"),
        # Never two ACTIVE models of one kind for a workflow, whatever races.
        sa.Index(
            "uq_model_versions_active",
            "workflow_id",
            "kind",
            unique=True,
            sqlite_where=sa.text("status = 'ACTIVE'"),
            postgresql_where=sa.text("status = 'ACTIVE'"),
        ),
    )
    id: str = Field(primary_key=True, max_length=40)
    workflow_id: str = Field(foreign_key="workflows.id", index=True, max_length=40)
    version: int
    kind: str = Field(max_length=16)
    status: str = Field(max_length=16)
    features: list[str] = _json()
    feature_spec: dict[str, Any] = _json()
    classes: list[str] = _json()
    model_text: str = Field(default="", sa_type=sa.Text)
    calibration: dict[str, Any] = _json()
    metrics: dict[str, Any] | None = _json(nullable=True)
    trained_on: int = 0
    message: str | None = Field(default=None, sa_type=sa.Text)
    job_id: str | None = Field(default=None, max_length=40)
    created_at: datetime = _ts()
    promoted_at: datetime | None = _ts(nullable=True)


class ThemeReportRow(SQLModel, table=True):
    __tablename__ = "theme_reports"
    __table_args__ = (sa.Index("ix_theme_reports_latest", "workflow_id", "created_at"),)
    id: str = Field(primary_key=True, max_length=40)
    workflow_id: str = Field(foreign_key="workflows.id", max_length=40)
    window: str = Field(max_length=16)
    overrides_analysed: int
    themes: list[dict[str, Any]] = _json()
    created_at: datetime = _ts()


metadata = SQLModel.metadata


def table_of(row: type[SQLModel]) -> sa.Table:
    """The Core table a SQLModel class maps, typed (SQLModel does not declare __table__)."""
    table = sa.inspect(row).local_table
    assert isinstance(table, sa.Table)
    return table


# Core tables, for the repositories' and queries' SQL.
users_t = table_of(UserRow)
workflows_t = table_of(WorkflowRow)
policies_t = table_of(PolicyRow)
recs_t = table_of(RecommendationRow)
revisions_t = table_of(DraftRevisionRow)
decisions_t = table_of(DecisionRow)
overrides_t = table_of(OverrideRow)
confirmation_grants_t = table_of(ConfirmationGrantRow)
events_t = table_of(EventRow)
jobs_t = table_of(JobRow)
webhooks_t = table_of(WebhookRow)
deliveries_t = table_of(WebhookDeliveryRow)
models_t = table_of(ModelVersionRow)
theme_reports_t = table_of(ThemeReportRow)


class TrustedDocumentRow(SQLModel, table=True):
    """A registered GraphQL document, named by the SHA-256 of its text."""

    __tablename__ = "trusted_documents"
    id: str = Field(primary_key=True, max_length=71)  # "sha256:" + 64 hex digits
    body: str = Field(sa_type=sa.Text)
    operation_names: list[str] = _json()
    registered_at: datetime = _ts()
