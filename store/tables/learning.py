"""What learning writes: trained model versions and theme reports; and the trusted
GraphQL documents the API registers."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from domain.learning import (
    ModelArtifact,
    ModelKind,
    ModelMetrics,
    ModelStatus,
    ModelVersion,
    ThemeReport,
    ThemeSummary,
)
from domain.trusted_documents import TrustedDocument
from store.tables.columns import enum_field, json_field, timestamp


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
    kind: ModelKind = enum_field(ModelKind, 16)
    status: ModelStatus = enum_field(ModelStatus, 16)
    features: list[str] = json_field()
    feature_spec: dict[str, Any] = json_field()
    classes: list[str] = json_field()
    model_text: str = Field(default="", sa_type=sa.Text)
    calibration: dict[str, Any] = json_field()
    metrics: dict[str, Any] | None = json_field(nullable=True)
    trained_on: int = 0
    message: str | None = Field(default=None, sa_type=sa.Text)
    job_id: str | None = Field(default=None, max_length=40)
    created_at: datetime = timestamp()
    promoted_at: datetime | None = timestamp(nullable=True)

    # The artifact's columns can be megabytes: reads of a version leave them out.
    ARTIFACT: ClassVar[tuple[str, ...]] = ("model_text", "feature_spec", "calibration")

    @classmethod
    def of(cls, model: ModelVersion, artifact: ModelArtifact) -> ModelVersionRow:
        return cls.model_construct(
            id=model.id,
            workflow_id=model.workflow_id,
            version=model.version,
            kind=model.kind,
            status=model.status,
            features=model.features,
            classes=model.classes,
            metrics=asdict(model.metrics) if model.metrics is not None else None,
            trained_on=model.trained_on,
            message=model.message,
            job_id=model.job_id,
            created_at=model.created_at,
            promoted_at=model.promoted_at,
            model_text=artifact.model_text,
            feature_spec=artifact.feature_spec,
            calibration=artifact.calibration,
        )

    def to_domain(self) -> ModelVersion:
        return ModelVersion(
            id=self.id,
            workflow_id=self.workflow_id,
            version=self.version,
            kind=self.kind,
            status=self.status,
            features=list(self.features or []),
            trained_on=self.trained_on,
            created_at=self.created_at,
            metrics=ModelMetrics(**self.metrics) if self.metrics else None,
            promoted_at=self.promoted_at,
            message=self.message,
            job_id=self.job_id,
            classes=list(self.classes or []),
        )

    def artifact(self) -> ModelArtifact:
        return ModelArtifact(self.model_text, dict(self.feature_spec), dict(self.calibration))


class ThemeReportRow(SQLModel, table=True):
    __tablename__ = "theme_reports"
    __table_args__ = (sa.Index("ix_theme_reports_latest", "workflow_id", "created_at"),)
    id: str = Field(primary_key=True, max_length=40)
    workflow_id: str = Field(foreign_key="workflows.id", max_length=40)
    window: str = Field(max_length=16)
    overrides_analysed: int
    themes: list[dict[str, Any]] = json_field()
    created_at: datetime = timestamp()

    @classmethod
    def of(cls, report: ThemeReport) -> ThemeReportRow:
        return cls.model_construct(
            id=report.id,
            workflow_id=report.workflow_id,
            window=report.window,
            overrides_analysed=report.overrides_analysed,
            themes=[asdict(t) for t in report.themes],
            created_at=report.created_at,
        )

    def to_domain(self) -> ThemeReport:
        return ThemeReport(
            id=self.id,
            workflow_id=self.workflow_id,
            window=self.window,
            overrides_analysed=self.overrides_analysed,
            themes=[ThemeSummary.from_json(t) for t in self.themes or []],
            created_at=self.created_at,
        )


class TrustedDocumentRow(SQLModel, table=True):
    """A registered GraphQL document, named by the SHA-256 of its text."""

    __tablename__ = "trusted_documents"
    id: str = Field(primary_key=True, max_length=71)  # "sha256:" + 64 hex digits
    body: str = Field(sa_type=sa.Text)
    operation_names: list[str] = json_field()
    registered_at: datetime = timestamp()

    @classmethod
    def of(cls, document: TrustedDocument) -> TrustedDocumentRow:
        return cls.model_construct(
            id=document.id,
            body=document.text,
            operation_names=list(document.operation_names),
            registered_at=document.registered_at,
        )

    def to_domain(self) -> TrustedDocument:
        return TrustedDocument(
            self.id, self.body, tuple(self.operation_names or ()), self.registered_at
        )
