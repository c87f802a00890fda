"""The outbox of queue events, the jobs it and the API enqueue, and webhook deliveries."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from domain.enums import Tier
from domain.events import QueueEvent, QueueEventKind
from domain.jobs import Job, JobKind, JobState
from domain.messages import QueueEventMessage
from domain.snapshots import encode_recommendation
from domain.webhooks import DeliveryStatus, Webhook, WebhookDelivery
from store.tables.columns import BigId, enum_field, json_field, timestamp


class EventRow(SQLModel, table=True):
    """The outbox: every queue event, written with the change it describes."""

    __tablename__ = "events"
    __table_args__ = (sa.Index("ix_events_unpublished", "published_at", "seq"),)
    seq: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    id: str = Field(max_length=40, unique=True)
    kind: QueueEventKind = enum_field(QueueEventKind, 16)
    workflow_id: str = Field(foreign_key="workflows.id", max_length=40)
    recommendation_id: str = Field(max_length=40, index=True)
    tier: Tier = enum_field(Tier, 16)
    previous_tier: str | None = Field(default=None, max_length=16)
    actor_id: str | None = Field(default=None, max_length=40)
    decision_id: str | None = Field(default=None, max_length=40)
    at: datetime = timestamp()
    recommendation: dict[str, Any] = json_field()
    published_at: datetime | None = timestamp(nullable=True)

    @classmethod
    def of(cls, e: QueueEvent, snapshot: dict[str, Any] | None = None) -> EventRow:
        """The row of an event; `snapshot` is its item's encoding when already made."""
        return cls.model_construct(**cls.values(e, snapshot))

    @staticmethod
    def values(e: QueueEvent, snapshot: dict[str, Any] | None = None) -> dict[str, Any]:
        """The columns the event's row is inserted with (`values_of` its `of`, built
        directly: a batch of hundreds skips a model per event)."""
        return {
            "id": e.id,
            "kind": e.kind,
            "workflow_id": e.workflow_id,
            "recommendation_id": e.recommendation.id,
            "tier": e.recommendation.tier,
            "actor_id": e.actor_id,
            "decision_id": e.decision_id,
            "previous_tier": e.previous_tier,
            "at": e.at,
            "recommendation": snapshot
            if snapshot is not None
            else encode_recommendation(e.recommendation),
        }

    def to_message(self) -> QueueEventMessage:
        """The event as the message it publishes; the item stays as its stored snapshot."""
        return event_message(self)

    def to_domain(self) -> QueueEvent:
        return self.to_message().event()


def event_message(row: Any, snapshot: Mapping[str, Any] | None = None) -> QueueEventMessage:
    """The message an events row publishes, from an EventRow or a Core row of the table
    (the publisher reads Core rows: building ORM instances cost it a third of its time);
    `snapshot` is the row's item snapshot when the row was read without it."""
    assert row.seq is not None
    return QueueEventMessage(
        id=row.id,
        kind=row.kind,
        workflow_id=row.workflow_id,
        at=row.at,
        snapshot=row.recommendation if snapshot is None else snapshot,
        seq=row.seq,
        actor_id=row.actor_id,
        decision_id=row.decision_id,
        previous_tier=row.previous_tier,
    )


class JobRow(SQLModel, table=True):
    __tablename__ = "jobs"
    __table_args__ = (sa.Index("ix_jobs_state", "state", "kind", "created_at"),)
    id: str = Field(primary_key=True, max_length=40)
    kind: JobKind = enum_field(JobKind, 24)
    state: JobState = enum_field(JobState, 16)
    progress: float = 0.0
    message: str | None = Field(default=None, sa_type=sa.Text)
    result: dict[str, Any] | None = json_field(nullable=True)
    args: dict[str, Any] = json_field()
    created_at: datetime = timestamp()
    started_at: datetime | None = timestamp(nullable=True)
    finished_at: datetime | None = timestamp(nullable=True)
    heartbeat_at: datetime | None = timestamp(nullable=True)
    attempts: int = 0

    @classmethod
    def of(cls, j: Job) -> JobRow:
        return cls.model_construct(
            id=j.id,
            kind=j.kind,
            state=j.state,
            progress=j.progress,
            message=j.message,
            result=j.result,
            args=j.args,
            created_at=j.created_at,
            started_at=j.started_at,
            finished_at=j.finished_at,
            heartbeat_at=j.heartbeat_at,
            attempts=j.attempts,
        )

    def to_domain(self) -> Job:
        return Job(
            id=self.id,
            kind=self.kind,
            created_at=self.created_at,
            args=dict(self.args or {}),
            state=self.state,
            progress=self.progress,
            message=self.message,
            result=self.result,
            started_at=self.started_at,
            finished_at=self.finished_at,
            heartbeat_at=self.heartbeat_at,
            attempts=self.attempts,
        )


class WebhookRow(SQLModel, table=True):
    __tablename__ = "webhooks"
    id: str = Field(primary_key=True, max_length=40)
    workflow_id: str = Field(foreign_key="workflows.id", index=True, max_length=40)
    url: str = Field(max_length=2000)
    events: list[str] = json_field()
    secret: str = Field(max_length=100)
    active: bool = True
    created_at: datetime = timestamp()
    deleted_at: datetime | None = timestamp(nullable=True)

    @classmethod
    def of(cls, hook: Webhook, secret: str) -> WebhookRow:
        return cls.model_construct(
            id=hook.id,
            workflow_id=hook.workflow_id,
            url=hook.url,
            events=[k.value for k in hook.events],
            secret=secret,
            active=hook.active,
            created_at=hook.created_at,
        )

    def to_domain(self) -> Webhook:
        return Webhook(
            id=self.id,
            workflow_id=self.workflow_id,
            url=self.url,
            events=[QueueEventKind(k) for k in self.events],
            active=self.active,
            created_at=self.created_at,
        )


class WebhookDeliveryRow(SQLModel, table=True):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        sa.UniqueConstraint("webhook_id", "event_id", name="uq_webhook_deliveries_event"),
        sa.Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    )
    id: str = Field(primary_key=True, max_length=40)
    webhook_id: str = Field(foreign_key="webhooks.id", index=True, max_length=40)
    event_id: str = Field(max_length=40, index=True)
    event_kind: QueueEventKind = enum_field(QueueEventKind, 16)
    status: DeliveryStatus = enum_field(DeliveryStatus, 16)
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    last_attempt_at: datetime | None = timestamp(nullable=True)
    delivered_at: datetime | None = timestamp(nullable=True)
    next_attempt_at: datetime | None = timestamp(nullable=True)
    created_at: datetime = timestamp()

    @classmethod
    def of(cls, d: WebhookDelivery) -> WebhookDeliveryRow:
        return cls.model_construct(
            id=d.id,
            webhook_id=d.webhook_id,
            event_id=d.event_id,
            event_kind=d.event_kind,
            status=d.status,
            attempts=d.attempts,
            next_attempt_at=d.next_attempt_at,
            created_at=d.created_at,
        )

    def to_domain(self) -> WebhookDelivery:
        return WebhookDelivery(
            id=self.id,
            webhook_id=self.webhook_id,
            event_id=self.event_id,
            event_kind=self.event_kind,
            status=self.status,
            attempts=self.attempts,
            created_at=self.created_at,
            last_error=self.last_error,
            last_attempt_at=self.last_attempt_at,
            delivered_at=self.delivered_at,
            next_attempt_at=self.next_attempt_at,
        )
