"""Editable recommendations: a draft re-scored before it ships, and the outcome after."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from domain import validation
from domain.clock import utcnow
from domain.enums import RecommendationStatus, Role, Verdict
from domain.errors import ConflictError, InvalidInputError, NotFoundError
from domain.model import Recommendation, User
from domain.ports import UnitOfWork
from domain.rights import require_role
from domain.usecases.review import _require_reviewer, load_visible

SHIPPED = frozenset(
    {RecommendationStatus.APPROVED, RecommendationStatus.EDITED, RecommendationStatus.OVERRIDDEN}
)
NO_SCORER = (
    "no draft scorer yet: record the outcomes of shipped drafts (recordOutcome) and retrain "
    "(startRetraining) to get predicted scores"
)


@dataclass(frozen=True)
class DraftScores:
    model_version: str
    scores: list[float]


class DraftScorer(Protocol):
    async def score(
        self, workflow_id: str, contents: Sequence[str], payloads: Sequence[dict[str, Any]]
    ) -> DraftScores | None:
        """The ACTIVE draft scorer's predictions; None when the workflow has none."""
        ...


@dataclass(frozen=True)
class DraftPreview:
    content: str
    predicted_score: float | None
    original_predicted_score: float | None
    delta: float | None
    message: str | None


async def preview_edit(
    uow: UnitOfWork, actor: User, rec_id: str, content: str, scorer: DraftScorer
) -> DraftPreview:
    """Score `content` and the original draft with the same scorer, so that the delta
    compares like with like; decides nothing and writes nothing."""
    _require_reviewer(actor)
    item = await load_visible(uow, actor, rec_id)
    workflow = await uow.workflows.get(item.workflow_id)
    assert workflow is not None
    workflow.require_verdict(Verdict.EDIT)
    checked = validation.text(content, "content", validation.MAX_DRAFT, required=True)
    assert checked is not None
    if item.draft is None:
        raise InvalidInputError("this recommendation has no draft to edit", "content")
    await uow.rollback()  # reading is done: hold no transaction while scoring
    scored = await scorer.score(workflow.id, [checked, item.draft.original], [item.payload] * 2)
    if scored is None:
        return DraftPreview(checked, None, None, None, NO_SCORER)
    predicted, original = scored.scores
    return DraftPreview(checked, predicted, original, predicted - original, None)


async def score_draft(scorer: DraftScorer, item: Recommendation, content: str) -> float | None:
    """The ACTIVE scorer's prediction for shipping `content` on this item, if there is one."""
    scored = await scorer.score(item.workflow_id, [content], [item.payload])
    return scored.scores[0] if scored is not None else None


async def record_outcome(uow: UnitOfWork, actor: User, rec_id: str, value: float) -> Recommendation:
    """The measured result after shipping (e.g. the actual open rate): what the draft
    scorer learns from."""
    require_role(actor.role, Role.SERVICE, Role.ADMIN, doing="recording outcomes")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInputError("value must be a finite number", "value")
    item = await uow.recommendations.get(rec_id)
    if item is None:
        raise NotFoundError(f"no recommendation {rec_id}")
    if item.status not in SHIPPED:
        raise ConflictError(
            "only shipped items (APPROVED, EDITED, OVERRIDDEN) have outcomes",
            item.status.value,
            item.version,
        )
    await uow.outcomes.record(item.id, float(value), utcnow())
    await uow.commit()
    return item
