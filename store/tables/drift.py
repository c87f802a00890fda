"""Drift alarms: one row per episode of a served model's drift on a tier."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from domain.drift import DriftAlarm
from domain.enums import Tier
from store.tables.columns import enum_field, timestamp


class DriftAlarmRow(SQLModel, table=True):
    """An alarm raised by the drift monitor, open until the episode ends (`cleared_at`)."""

    __tablename__ = "drift_alarms"
    __table_args__ = (
        # One open episode per model and tier, whichever replica raises it first.
        sa.Index(
            "uq_drift_alarms_open",
            "model_id",
            "tier",
            unique=True,
            sqlite_where=sa.text("cleared_at IS NULL"),
            postgresql_where=sa.text("cleared_at IS NULL"),
        ),
    )
    id: str = Field(primary_key=True, max_length=40)
    workflow_id: str = Field(foreign_key="workflows.id", index=True, max_length=40)
    model_id: str = Field(foreign_key="model_versions.id", max_length=40)
    tier: Tier = enum_field(Tier, 16)
    message: str = Field(sa_type=sa.Text)
    raised_at: datetime = timestamp()
    cleared_at: datetime | None = timestamp(nullable=True)

    @classmethod
    def of(cls, alarm: DriftAlarm) -> DriftAlarmRow:
        return cls.model_construct(
            id=alarm.id,
            workflow_id=alarm.workflow_id,
            model_id=alarm.model_id,
            tier=alarm.tier,
            message=alarm.message,
            raised_at=alarm.raised_at,
            cleared_at=alarm.cleared_at,
        )

    def to_domain(self) -> DriftAlarm:
        return DriftAlarm(
            id=self.id,
            workflow_id=self.workflow_id,
            model_id=self.model_id,
            tier=self.tier,
            message=self.message,
            raised_at=self.raised_at,
            cleared_at=self.cleared_at,
        )
