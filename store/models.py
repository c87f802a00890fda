"""Model versions and theme reports: what retraining and theme mining write. Never commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from domain.clock import as_utc
from domain.learning import (
    ModelKind,
    ModelMetrics,
    ModelStatus,
    ModelVersion,
    ThemeReport,
    ThemeSummary,
)
from store.tables import models_t, overrides_t, theme_reports_t


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
        created_at=as_utc(row.created_at),  # type: ignore[arg-type]
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
        created_at=as_utc(row.created_at),  # type: ignore[arg-type]
    )


class SqlModels:
    """Model versions, as the retraining job writes them. Never commits."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def next_version(self, workflow_id: str) -> int:
        result = await self.session.execute(
            sa.select(sa.func.coalesce(sa.func.max(models_t.c.version), 0)).where(
                models_t.c.workflow_id == workflow_id
            )
        )
        return int(result.scalar_one()) + 1

    async def add(self, values: dict[str, Any]) -> None:
        await self.session.execute(models_t.insert().values(**values))

    async def row(self, model_id: str) -> Any:
        return (
            await self.session.execute(sa.select(models_t).where(models_t.c.id == model_id))
        ).first()

    async def active_row(self, workflow_id: str, kind: ModelKind) -> Any:
        return (
            await self.session.execute(
                sa.select(models_t).where(
                    models_t.c.workflow_id == workflow_id,
                    models_t.c.kind == kind.value,
                    models_t.c.status == ModelStatus.ACTIVE.value,
                )
            )
        ).first()

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

    async def set_status(self, model_id: str, status: ModelStatus, message: str | None) -> None:
        await self.session.execute(
            models_t.update()
            .where(models_t.c.id == model_id)
            .values(status=status.value, message=message)
        )

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
