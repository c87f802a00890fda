"""The feedback loop's rules: what a decision teaches, when a model is promoted, and how
people are told what their corrections changed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from domain.enums import Verdict


class ModelKind(StrEnum):
    CLASSIFIER = "CLASSIFIER"
    SCORER = "SCORER"


class ModelStatus(StrEnum):
    TRAINING = "TRAINING"
    CANDIDATE = "CANDIDATE"
    ACTIVE = "ACTIVE"
    RETIRED = "RETIRED"
    REJECTED = "REJECTED"
    FAILED = "FAILED"


class ModelEventKind(StrEnum):
    TRAINED = "TRAINED"
    PROMOTED = "PROMOTED"
    REJECTED = "REJECTED"
    DRIFT = "DRIFT"  # the served model's agreement with people or its calibration moved


CORRECTIONS = frozenset({Verdict.REJECT, Verdict.OVERRIDE, Verdict.EDIT})


def label_for(verdict: Verdict, proposed: str, final: str | None, actions: list[str]) -> str | None:
    """What a human decision teaches the classifier, or None when it teaches nothing.

    approve -> the proposed action; override and edit -> the final action; reject ->
    in a two-action workflow the other action, otherwise nothing (we only know what
    it was not); flags, requests for data and undos are not labels. Automated
    decisions are never labels (they are the model's own word), so callers pass
    human decisions only.
    """
    if verdict is Verdict.APPROVE:
        return proposed
    if verdict in (Verdict.OVERRIDE, Verdict.EDIT):
        return final
    if verdict is Verdict.REJECT and len(actions) == 2:
        others = [a for a in actions if a != proposed]
        return others[0] if others else None
    return None


@dataclass
class ModelMetrics:
    holdout_size: int
    accuracy: float | None = None
    baseline_accuracy: float | None = None
    log_loss: float | None = None
    calibration_error: float | None = None
    r2: float | None = None
    mean_absolute_error: float | None = None
    baseline_mean_absolute_error: float | None = None
    # The holdout figures are the evaluated model's, fitted on the labels before the
    # holdout (this many); the served model is refitted on all (ModelVersion.trained_on).
    # None in rows stored before the refit.
    evaluated_on: int | None = None


@dataclass
class ModelVersion:
    id: str
    workflow_id: str
    version: int
    kind: ModelKind
    status: ModelStatus
    features: list[str]
    trained_on: int
    created_at: datetime
    metrics: ModelMetrics | None = None
    promoted_at: datetime | None = None
    message: str | None = None
    job_id: str | None = None
    classes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        """The modelVersion its proposals carry ("v3"): what scoring writes on items, and
        how drift and recommendThreshold find the decisions on its proposals."""
        return f"v{self.version}"


@dataclass(frozen=True)
class ModelArtifact:
    """What it takes to load a trained model version: LightGBM's model text, how payloads
    become its features, and its calibration (the draft scorer keeps `n_hash` there)."""

    model_text: str
    feature_spec: dict[str, Any]
    calibration: dict[str, Any]


def promotion_verdict(metrics: ModelMetrics, margin: float) -> tuple[bool, str]:
    """Promote only when the candidate is not worse than the proposals it would replace,
    on the same holdout (within `margin`)."""
    if metrics.accuracy is None or metrics.baseline_accuracy is None:
        return False, "no holdout accuracy to compare"
    if metrics.accuracy + margin >= metrics.baseline_accuracy:
        return True, (
            f"accuracy {metrics.accuracy:.1%} vs {metrics.baseline_accuracy:.1%} for the "
            f"current proposals on the same {metrics.holdout_size} holdout items"
        )
    return False, (
        f"not promoted: accuracy {metrics.accuracy:.1%} is below the current proposals' "
        f"{metrics.baseline_accuracy:.1%} on the same {metrics.holdout_size} holdout items"
    )


def scorer_promotion_verdict(metrics: ModelMetrics, margin: float) -> tuple[bool, str]:
    """A draft scorer is promoted when it predicts outcomes better than the mean does."""
    mae, baseline = metrics.mean_absolute_error, metrics.baseline_mean_absolute_error
    if mae is None or baseline is None:
        return False, "no holdout error to compare"
    if mae <= baseline * (1 + margin):
        return True, (
            f"mean absolute error {mae:.4g} vs {baseline:.4g} for predicting the mean "
            f"(R² {metrics.r2:.2f}) on {metrics.holdout_size} holdout outcomes"
        )
    return False, (
        f"not promoted: mean absolute error {mae:.4g} is worse than predicting the mean "
        f"({baseline:.4g}) on {metrics.holdout_size} holdout outcomes"
    )


@dataclass(frozen=True)
class SuggestedFeature:
    """A payload field a theme points at: how strongly (0..1), why in words, and
    whether the active model (or, without one, the proposals) already uses it."""

    field: str
    score: float
    evidence: str
    used_by_model: bool

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SuggestedFeature:
        return cls(
            field=str(data["field"]),
            score=float(data["score"]),
            evidence=str(data.get("evidence", "")),
            used_by_model=bool(data.get("used_by_model", False)),
        )


@dataclass
class ThemeSummary:
    label: str
    keywords: list[str]
    count: int
    share: float
    proposed_action: str | None
    share_of_action_overrides: float | None
    conditions: list[str]
    suggested_feature: str | None
    examples: list[str]
    suggested_features: list[SuggestedFeature] = field(default_factory=list)
    """Ranked, best first; `suggested_feature` is the first the model does not use."""

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ThemeSummary:
        """A stored theme; keys it lacks (older reports) take their defaults, unknown
        keys are ignored."""
        values: dict[str, Any] = {
            k: data.get(k) for k in cls.__dataclass_fields__ if k != "suggested_features"
        }
        values["suggested_features"] = [
            SuggestedFeature.from_json(s) for s in data.get("suggested_features") or []
        ]
        return cls(**values)


@dataclass
class ThemeReport:
    id: str
    workflow_id: str
    window: str
    overrides_analysed: int
    themes: list[ThemeSummary]
    created_at: datetime


@dataclass
class FeedbackReport:
    workflow_id: str
    period_start: datetime
    period_end: datetime
    corrections: int
    top_theme: ThemeSummary | None
    accuracy_before: float | None
    accuracy_after: float | None
    added_features: list[str]
    message: str


def feedback_message(
    period_end: datetime,
    corrections: int,
    top_theme: ThemeSummary | None,
    accuracy_before: float | None,
    accuracy_after: float | None,
    added_features: list[str],
) -> str:
    """E.g. "In November you corrected 412 recommendations. Top theme: young healthcare
    companies. Retrained on your corrections, accuracy went from 86% to 95%." """
    month = period_end.strftime("%B")
    noun = "recommendation" if corrections == 1 else "recommendations"
    parts = [f"In {month} you corrected {corrections} {noun}."]
    if top_theme is not None:
        parts.append(f"Top theme: {top_theme.label} ({top_theme.share:.0%} of overrides).")
    if accuracy_before is not None and accuracy_after is not None:
        parts.append(
            f"Retrained on your corrections, accuracy went from {accuracy_before:.0%} "
            f"to {accuracy_after:.0%}."
        )
    if added_features:
        parts.append(f"The model now also uses {', '.join(added_features)}.")
    return " ".join(parts)
