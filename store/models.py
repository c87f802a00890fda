"""Model versions and theme reports: what retraining and theme mining write, and the one
way to find a workflow's ACTIVE model. Never commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from domain.clock import as_utc
from domain.learning import (
    ModelArtifact,
    ModelKind,
    ModelStatus,
    ModelVersion,
    ThemeReport,
)
from store.loading import load_first
from store.tables import (
    ModelVersionRow,
    ThemeReportRow,
    models_t,
    overrides_t,
    theme_reports_t,
    values_of,
    workflows_t,
)

# A version is read without its artifact's columns (LightGBM's text can be megabytes);
# touching one of them on such a row raises rather than reading it behind our back.
VERSION_ONLY = [
    defer(getattr(ModelVersionRow, name), raiseload=True) for name in ModelVersionRow.ARTIFACT
]


def active_models(kind: ModelKind) -> sa.Select[ModelVersionRow]:
    """The base select of a kind's ACTIVE models: the partial unique index keeps at most
    one per workflow."""
    return (
        sa.select(ModelVersionRow)
        .options(*VERSION_ONLY)
        .where(models_t.c.kind == kind.value, models_t.c.status == ModelStatus.ACTIVE.value)
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
            models_t.insert().values(values_of(ModelVersionRow.of(model, artifact)))
        )

    async def active(self, workflow_id: str, kind: ModelKind) -> ModelVersion | None:
        """The workflow's ACTIVE model of this kind, if it has one."""
        query = active_models(kind).where(models_t.c.workflow_id == workflow_id)
        row = await load_first(self.session, query)
        return row.to_domain() if row else None

    async def active_by_key(self, workflow_key: str, kind: ModelKind) -> ModelVersion | None:
        """As `active`, for the workflow with this key."""
        query = active_models(kind).join(workflows_t, workflows_t.c.id == models_t.c.workflow_id)
        row = await load_first(self.session, query.where(workflows_t.c.key == workflow_key))
        return row.to_domain() if row else None

    async def artifact(self, model_id: str) -> ModelArtifact | None:
        """What loading the model takes (its LightGBM text can be megabytes)."""
        row = await load_first(
            self.session, sa.select(ModelVersionRow).where(models_t.c.id == model_id)
        )
        return row.artifact() if row else None

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
            theme_reports_t.insert().values(values_of(ThemeReportRow.of(report)))
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
