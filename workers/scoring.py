"""Scoring cases with a workflow's active classifier, cached per model version."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from domain.learning import ModelKind, ModelStatus
from domain.usecases.learning import ScoredCase, Scores

if TYPE_CHECKING:  # LightGBM loads on first use, off the event loop
    from ml.classifier import LoadedClassifier

from store.tables import models_t, workflows_t

CACHE_SIZE = 32


class ActiveModelScorer:
    """Implements domain.usecases.learning.CaseScorer over the database."""

    def __init__(self, runtime: Any) -> None:
        self.runtime = runtime
        self._cache: dict[str, tuple[int, LoadedClassifier]] = {}
        self._lock = asyncio.Lock()

    async def _active(self, workflow_key: str) -> tuple[str, int] | None:
        async with self.runtime.read_session() as session:
            row = (
                await session.execute(
                    sa.select(models_t.c.id, models_t.c.version)
                    .join(workflows_t, workflows_t.c.id == models_t.c.workflow_id)
                    .where(
                        workflows_t.c.key == workflow_key,
                        models_t.c.kind == ModelKind.CLASSIFIER.value,
                        models_t.c.status == ModelStatus.ACTIVE.value,
                    )
                )
            ).first()
        return (row.id, row.version) if row else None

    async def _load(self, model_id: str) -> tuple[int, LoadedClassifier]:
        async with self._lock:
            if model_id in self._cache:
                return self._cache[model_id]
            async with self.runtime.read_session() as session:
                row = (
                    await session.execute(sa.select(models_t).where(models_t.c.id == model_id))
                ).one()
            loaded = await asyncio.to_thread(
                _load_classifier,
                row.feature_spec,
                list(row.classes),
                row.model_text,
                row.calibration,
            )
            if len(self._cache) >= CACHE_SIZE:
                self._cache.pop(next(iter(self._cache)))
            self._cache[model_id] = (row.version, loaded)
            return self._cache[model_id]

    async def score(self, workflow_key: str, payloads: Sequence[dict[str, Any]]) -> Scores | None:
        active = await self._active(workflow_key)
        if active is None:
            return None
        version, classifier = await self._load(active[0])
        predictions = await asyncio.to_thread(classifier.predict, list(payloads))
        return Scores(
            model_version=f"v{version}",
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


def _load_classifier(*args: Any) -> LoadedClassifier:
    """In a worker thread: the first call imports LightGBM (seconds), not on the event loop."""
    from ml.classifier import LoadedClassifier

    return LoadedClassifier.load(*args)
