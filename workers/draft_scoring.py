"""Scoring drafts with a workflow's ACTIVE draft scorer, cached per model version."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from domain.learning import ModelKind, ModelStatus
from domain.usecases.drafts import DraftScores

if TYPE_CHECKING:  # LightGBM loads on first use, off the event loop
    from ml.scorer import LoadedScorer

from store.tables import models_t

CACHE_SIZE = 32


class ActiveDraftScorer:
    """Implements domain.usecases.drafts.DraftScorer over the database."""

    def __init__(self, runtime: Any) -> None:
        self.runtime = runtime
        self._cache: dict[str, tuple[int, LoadedScorer]] = {}
        self._lock = asyncio.Lock()

    async def _active(self, workflow_id: str) -> tuple[str, int] | None:
        async with self.runtime.read_session() as session:
            row = (
                await session.execute(
                    sa.select(models_t.c.id, models_t.c.version).where(
                        models_t.c.workflow_id == workflow_id,
                        models_t.c.kind == ModelKind.SCORER.value,
                        models_t.c.status == ModelStatus.ACTIVE.value,
                    )
                )
            ).first()
        return (row.id, row.version) if row else None

    async def _load(self, model_id: str) -> tuple[int, LoadedScorer]:
        async with self._lock:
            if model_id not in self._cache:
                async with self.runtime.read_session() as session:
                    row = (
                        await session.execute(sa.select(models_t).where(models_t.c.id == model_id))
                    ).one()
                n_hash = int(row.calibration.get("n_hash", 0))
                loaded = await asyncio.to_thread(
                    _load_scorer, row.feature_spec, row.model_text, n_hash
                )
                if len(self._cache) >= CACHE_SIZE:
                    self._cache.pop(next(iter(self._cache)))
                self._cache[model_id] = (row.version, loaded)
            return self._cache[model_id]

    async def score(
        self, workflow_id: str, contents: Sequence[str], payloads: Sequence[dict[str, Any]]
    ) -> DraftScores | None:
        active = await self._active(workflow_id)
        if active is None:
            return None
        version, scorer = await self._load(active[0])
        scores = await asyncio.to_thread(scorer.predict, list(contents), list(payloads))
        return DraftScores(model_version=f"v{version}", scores=[float(s) for s in scores])


def _load_scorer(*args: Any) -> LoadedScorer:
    """In a worker thread: the first call imports LightGBM (seconds), not on the event loop."""
    from ml.scorer import LoadedScorer

    return LoadedScorer.load(*args)
