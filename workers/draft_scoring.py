"""Scoring drafts with a workflow's ACTIVE draft scorer, cached per model version."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from domain.learning import ModelArtifact, ModelKind, ModelVersion
from domain.usecases.drafts import DraftScores
from workers.job_runtime import JobRuntime

if TYPE_CHECKING:  # LightGBM loads on first use, off the event loop
    from ml.scorer import LoadedScorer

CACHE_SIZE = 32


class ActiveDraftScorer:
    """Implements domain.usecases.drafts.DraftScorer over the database."""

    def __init__(self, runtime: JobRuntime) -> None:
        self.runtime = runtime
        self._cache: dict[str, LoadedScorer] = {}
        self._lock = asyncio.Lock()

    async def _active(self, workflow_id: str) -> ModelVersion | None:
        async with self.runtime.job_reads() as reads:
            return await reads.models.active(workflow_id, ModelKind.SCORER)

    async def _load(self, model: ModelVersion) -> LoadedScorer:
        async with self._lock:
            if model.id not in self._cache:
                async with self.runtime.job_reads() as reads:
                    artifact = await reads.models.artifact(model.id)
                if artifact is None:
                    raise LookupError(f"model {model.id} no longer exists")
                loaded = await asyncio.to_thread(_load_scorer, artifact)
                if len(self._cache) >= CACHE_SIZE:
                    self._cache.pop(next(iter(self._cache)))
                self._cache[model.id] = loaded
            return self._cache[model.id]

    async def score(
        self, workflow_id: str, contents: Sequence[str], payloads: Sequence[dict[str, Any]]
    ) -> DraftScores | None:
        active = await self._active(workflow_id)
        if active is None:
            return None
        scorer = await self._load(active)
        scores = await asyncio.to_thread(scorer.predict, list(contents), list(payloads))
        return DraftScores(model_version=active.label, scores=[float(s) for s in scores])


def _load_scorer(artifact: ModelArtifact) -> LoadedScorer:
    """In a worker thread: the first call imports LightGBM (seconds), not on the event loop."""
    from ml.scorer import LoadedScorer

    n_hash = int(artifact.calibration.get("n_hash", 0))
    return LoadedScorer.load(artifact.feature_spec, artifact.model_text, n_hash)
