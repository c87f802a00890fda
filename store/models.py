"""Model versions and theme reports: what retraining and theme mining write, and the one
way to find a workflow's ACTIVE model. Never commits."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from domain.clock import as_utc
from domain.learning import (
    ModelArtifact,
    ModelKind,
    ModelMetrics,
    ModelStatus,
    ModelVersion,
    ThemeReport,
    ThemeSummary,
)
from store.tables import models_t, overrides_t, theme_reports_t, workflows_t

# Every column but the (large) artifact ones: what a ModelVersion is built from.
_VERSION_COLUMNS = [
    column
    for column in models_t.c
    if column.name not in ("model_text", "feature_spec", "calibration")
]


def model_version(row: Any) -> ModelVersion:
    metrics = ModelMetrics(**row.metrics) if row.metrics else None
    return ModelVersion(
        id=row.id,
        workflow_id=row.workflow_id,
        version=row.version,
        kind=ModelKind(row.kind),
        status=ModelStatus(row.status),
        features=list(row.features or []),
        trained_on=row.trained_on,
        created_at=as_utc(row.created_at),
        metrics=metrics,
        promoted_at=as_utc(row.promoted_at),
        message=row.message,
        job_id=row.job_id,
        classes=list(row.classes or []),
    )


def theme_report(row: Any) -> ThemeReport:
    return ThemeReport(
        id=row.id,
        workflow_id=row.workflow_id,
        window=row.window,
        overrides_analysed=row.overrides_analysed,
        themes=[ThemeSummary.from_json(t) for t in row.themes or []],
        created_at=as_utc(row.created_at),
    )


def _active(kind: ModelKind) -> sa.Select[Any]:
    """The base select of a kind's ACTIVE models: the partial unique index keeps at most
    one per workflow."""
    return sa.select(*_VERSION_COLUMNS).where(
        models_t.c.kind == kind.value, models_t.c.status == ModelStatus.ACTIVE.value
    )


class SqlModels:
    """Model versions, as the retraining job writes them and the scorers read them."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def next_version(self, workflow_id: str) -> int:
        result = await self.session.execute(
            sa.select(sa.func.coalesce(sa.func.max(models_t.c.version), 0)).where(
                models_t.c.workflow_id == workflow_id
            )
        )
        return int(result.scalar_one()) + 1

    async def add(self, model: ModelVersion, artifact: ModelArtifact) -> None:
        await self.session.execute(
            models_t.insert().values(
                id=model.id,
                workflow_id=model.workflow_id,
                version=model.version,
                kind=model.kind.value,
                status=model.status.value,
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
        )

    async def active(self, workflow_id: str, kind: ModelKind) -> ModelVersion | None:
        """The workflow's ACTIVE model of this kind, if it has one."""
        query = _active(kind).where(models_t.c.workflow_id == workflow_id)
        row = (await self.session.execute(query)).first()
        return model_version(row) if row else None

    async def active_by_key(self, workflow_key: str, kind: ModelKind) -> ModelVersion | None:
        """As `active`, for the workflow with this key."""
        query = _active(kind).join(workflows_t, workflows_t.c.id == models_t.c.workflow_id)
        row = (await self.session.execute(query.where(workflows_t.c.key == workflow_key))).first()
        return model_version(row) if row else None

    async def artifact(self, model_id: str) -> ModelArtifact | None:
        """What loading the model takes (its LightGBM text can be megabytes)."""
        c = models_t.c
        row = (
            await self.session.execute(
                sa.select(c.model_text, c.feature_spec, c.calibration).where(c.id == model_id)
            )
        ).first()
        if row is None:
            return None
        return ModelArtifact(row.model_text, dict(row.feature_spec), dict(row.calibration))

    async def latest_created_at(self, workflow_id: str, kind: ModelKind) -> datetime | None:
        """When the workflow's latest model of this kind was trained, whatever its status."""
        result = await self.session.execute(
            sa.select(sa.func.max(models_t.c.created_at)).where(
                models_t.c.workflow_id == workflow_id, models_t.c.kind == kind.value
            )
        )
        latest: datetime | None = result.scalar_one()
        return as_utc(latest)

    async def promote(
        self, model_id: str, workflow_id: str, kind: ModelKind, now: datetime
    ) -> bool:
        """Retire the ACTIVE model of this kind and activate this CANDIDATE, atomically.

        The partial unique index on ACTIVE models makes a racing promotion fail
        with an IntegrityError; the unit of work is then retried whole.
        """
        await self.session.execute(
            models_t.update()
            .where(
                models_t.c.workflow_id == workflow_id,
                models_t.c.kind == kind.value,
                models_t.c.status == ModelStatus.ACTIVE.value,
            )
            .values(status=ModelStatus.RETIRED.value)
        )
        result: Any = await self.session.execute(
            models_t.update()
            .where(models_t.c.id == model_id, models_t.c.status == ModelStatus.CANDIDATE.value)
            .values(status=ModelStatus.ACTIVE.value, promoted_at=now)
        )
        return bool(result.rowcount == 1)

    async def add_theme_report(self, report: ThemeReport, members: dict[str, str]) -> None:
        """Store a report and label each override (id -> theme label) with its theme."""
        await self.session.execute(
            theme_reports_t.insert().values(
                id=report.id,
                workflow_id=report.workflow_id,
                window=report.window,
                overrides_analysed=report.overrides_analysed,
                themes=[t.__dict__ for t in report.themes],
                created_at=report.created_at,
            )
        )
        by_label: dict[str, list[str]] = {}
        for override_id, label in members.items():
            by_label.setdefault(label, []).append(override_id)
        for label, ids in by_label.items():
            for start in range(0, len(ids), 500):
                await self.session.execute(
                    overrides_t.update()
                    .where(overrides_t.c.id.in_(ids[start : start + 500]))
                    .values(theme=label[:200])
                )
