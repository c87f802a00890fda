"""ModelVersion, ModelMetrics, OverrideTheme(Report) and SuggestedFeature, FeedbackReport,
ModelEvent."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from api.schema.common.enums import ModelEventKind, ModelKind, ModelStatus, Window
from api.schema.common.types import Info, Node
from api.schema.jobs.types import Job
from domain import learning

if TYPE_CHECKING:
    from api.schema.workflows.types import Workflow

WorkflowRef = Annotated["Workflow", strawberry.lazy("api.schema.workflows.types")]


async def _workflow(info: Info, workflow_id: str) -> WorkflowRef:
    from api.schema.workflows.types import load_workflow

    return await load_workflow(info, workflow_id)


@strawberry.type(name="ModelMetrics")
class ModelMetrics:
    holdout_size: int
    accuracy: float | None
    baseline_accuracy: float | None = strawberry.field(
        description="The proposals it would replace, on the same holdout."
    )
    log_loss: float | None
    calibration_error: float | None = strawberry.field(
        description="Expected calibration error of its confidences."
    )
    r2: float | None
    mean_absolute_error: float | None
    baseline_mean_absolute_error: float | None

    @classmethod
    def from_domain(cls, m: learning.ModelMetrics) -> ModelMetrics:
        return cls(
            holdout_size=m.holdout_size,
            accuracy=m.accuracy,
            baseline_accuracy=m.baseline_accuracy,
            log_loss=m.log_loss,
            calibration_error=m.calibration_error,
            r2=m.r2,
            mean_absolute_error=m.mean_absolute_error,
            baseline_mean_absolute_error=m.baseline_mean_absolute_error,
        )


@strawberry.type(name="ModelVersion")
class ModelVersion(Node):
    id: strawberry.ID
    version: int
    kind: ModelKind
    status: ModelStatus
    features: list[str] = strawberry.field(description="Payload fields the model uses.")
    trained_on: int
    metrics: ModelMetrics | None
    message: str | None = strawberry.field(description="Why it was rejected, when it was.")
    created_at: datetime
    promoted_at: datetime | None
    _model: strawberry.Private[learning.ModelVersion]

    @strawberry.field
    async def workflow(self, info: Info) -> WorkflowRef:
        return await _workflow(info, self._model.workflow_id)

    @classmethod
    def from_domain(cls, m: learning.ModelVersion) -> ModelVersion:
        return cls(
            id=strawberry.ID(m.id),
            version=m.version,
            kind=m.kind,
            status=m.status,
            features=list(m.features),
            trained_on=m.trained_on,
            metrics=ModelMetrics.from_domain(m.metrics) if m.metrics else None,
            message=m.message,
            created_at=m.created_at,
            promoted_at=m.promoted_at,
            _model=m,
        )


@strawberry.type(name="SuggestedFeature")
class SuggestedFeature:
    field: str
    score: float = strawberry.field(
        description="0..1: how strongly the theme's items and words point at this field."
    )
    evidence: str = strawberry.field(
        description='E.g. "company_age_years < 2 holds for 96% of the theme and 11% '
        'elsewhere; words: young, founded".'
    )
    used_by_model: bool

    @classmethod
    def from_domain(cls, s: learning.SuggestedFeature) -> SuggestedFeature:
        return cls(field=s.field, score=s.score, evidence=s.evidence, used_by_model=s.used_by_model)


@strawberry.type(name="OverrideTheme")
class OverrideTheme:
    label: str
    keywords: list[str]
    count: int
    share: float = strawberry.field(description="Of the overrides analysed.")
    proposed_action: str | None = strawberry.field(
        description="The proposal this theme overrides most."
    )
    share_of_action_overrides: float | None = strawberry.field(
        description="Of the overrides of that proposal, the share citing this theme."
    )
    conditions: list[str] = strawberry.field(
        description='Payload conditions typical of it, e.g. "industry = healthcare".'
    )
    suggested_feature: str | None = strawberry.field(
        description="A payload field the active model does not use yet."
    )
    examples: list[str]
    suggested_features: list[SuggestedFeature] = strawberry.field(
        description="Ranked, best first; suggestedFeature is the first not used by the model."
    )

    @classmethod
    def from_domain(cls, t: learning.ThemeSummary) -> OverrideTheme:
        return cls(
            label=t.label,
            keywords=list(t.keywords),
            count=t.count,
            share=t.share,
            proposed_action=t.proposed_action,
            share_of_action_overrides=t.share_of_action_overrides,
            conditions=list(t.conditions),
            suggested_feature=t.suggested_feature,
            examples=list(t.examples),
            suggested_features=[SuggestedFeature.from_domain(s) for s in t.suggested_features],
        )


@strawberry.type(name="OverrideThemeReport")
class OverrideThemeReport:
    id: strawberry.ID
    window: Window
    overrides_analysed: int
    themes: list[OverrideTheme]
    created_at: datetime
    _report: strawberry.Private[learning.ThemeReport]

    @strawberry.field
    async def workflow(self, info: Info) -> WorkflowRef:
        return await _workflow(info, self._report.workflow_id)

    @classmethod
    def from_domain(cls, r: learning.ThemeReport) -> OverrideThemeReport:
        return cls(
            id=strawberry.ID(r.id),
            window=Window(r.window),
            overrides_analysed=r.overrides_analysed,
            themes=[OverrideTheme.from_domain(t) for t in r.themes],
            created_at=r.created_at,
            _report=r,
        )


@strawberry.type(name="FeedbackReport")
class FeedbackReport:
    period_start: datetime
    period_end: datetime
    corrections: int
    top_theme: OverrideTheme | None
    accuracy_before: float | None
    accuracy_after: float | None
    added_features: list[str]
    message: str
    _report: strawberry.Private[learning.FeedbackReport]

    @strawberry.field
    async def workflow(self, info: Info) -> WorkflowRef:
        return await _workflow(info, self._report.workflow_id)

    @classmethod
    def from_domain(cls, r: learning.FeedbackReport) -> FeedbackReport:
        return cls(
            period_start=r.period_start,
            period_end=r.period_end,
            corrections=r.corrections,
            top_theme=OverrideTheme.from_domain(r.top_theme) if r.top_theme else None,
            accuracy_before=r.accuracy_before,
            accuracy_after=r.accuracy_after,
            added_features=list(r.added_features),
            message=r.message,
            _report=r,
        )


@strawberry.type(name="ModelEvent")
class ModelEvent:
    id: strawberry.ID
    kind: ModelEventKind
    model: ModelVersion
    report: FeedbackReport | None = strawberry.field(
        description="On PROMOTED: what the promotion changed."
    )
    message: str | None = strawberry.field(
        default=None, description="On DRIFT: what moved, by how much, since when."
    )


@strawberry.type
class JobSuccess:
    job: Job
