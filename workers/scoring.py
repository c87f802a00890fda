"""Scoring cases with a workflow's active classifier, cached per model version."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from domain.learning import ModelArtifact, ModelKind, ModelVersion
from domain.usecases.learning import ScoredCase, Scores
from workers.job_runtime import JobRuntime

if TYPE_CHECKING:  # LightGBM loads on first use, off the event loop
    from ml.classifier import LoadedClassifier

CACHE_SIZE = 32


class ActiveModelScorer:
    """Implements domain.usecases.learning.CaseScorer over the database."""

    def __init__(self, runtime: JobRuntime) -> None:
        self.runtime = runtime
        self._cache: dict[str, LoadedClassifier] = {}
        self._lock = asyncio.Lock()

    async def _active(self, workflow_key: str) -> ModelVersion | None:
        async with self.runtime.job_reads() as reads:
            return await reads.models.active_by_key(workflow_key, ModelKind.CLASSIFIER)

    async def _load(self, model: ModelVersion) -> LoadedClassifier:
        async with self._lock:
            if model.id in self._cache:
                return self._cache[model.id]
            async with self.runtime.job_reads() as reads:
                artifact = await reads.models.artifact(model.id)
            if artifact is None:
                raise LookupError(f"model {model.id} no longer exists")
            loaded = await asyncio.to_thread(_load_classifier, artifact, list(model.classes))
            if len(self._cache) >= CACHE_SIZE:
                self._cache.pop(next(iter(self._cache)))
            self._cache[model.id] = loaded
            return loaded

    async def score(self, workflow_key: str, payloads: Sequence[dict[str, Any]]) -> Scores | None:
        active = await self._active(workflow_key)
        if active is None:
            return None
        classifier = await self._load(active)
        predictions = await asyncio.to_thread(classifier.predict, list(payloads))
        return Scores(
            model_version=active.label,
            cases=[
                ScoredCase(
                    action=p.action,
                    confidence=float(p.confidence),
                    explanation=[
                        {"feature": name, "value": _jsonable(value), "contribution": float(c)}
                        for name, value, c in p.contributions
                    ],
                )
                for p in predictions
            ],
        )


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | bool | int | float):
        return value
    return str(value)


def _load_classifier(artifact: ModelArtifact, classes: list[str]) -> LoadedClassifier:
    """In a worker thread: the first call imports LightGBM (seconds), not on the event loop."""
    from ml.classifier import LoadedClassifier

    return LoadedClassifier.load(
        artifact.feature_spec, classes, artifact.model_text, artifact.calibration
    )
