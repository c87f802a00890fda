"""previewEdit, recordOutcome."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.schema.common.problems import Conflict, Forbidden, InvalidInput, NotFound, returns_problems
from api.schema.common.types import Info
from api.schema.drafts.types import DraftPreview
from api.schema.recommendations.mutations import RecommendationResult, RecommendationSuccess
from api.schema.recommendations.types import Recommendation
from domain.usecases import drafts

DraftPreviewResult = Annotated[
    DraftPreview | NotFound | Forbidden | InvalidInput, strawberry.union("DraftPreviewResult")
]


@strawberry.type
class DraftMutations:
    @strawberry.mutation(
        description="EDITOR and EXPERT DRAFT workflows: re-score an edited draft without "
        'deciding ("Predicted open rate 22% -> 25%. Ship it?").'
    )
    @returns_problems[DraftPreviewResult](NotFound, Forbidden, InvalidInput)
    async def preview_edit(self, info: Info, id: strawberry.ID, content: str) -> DraftPreviewResult:
        scorer = info.context.services.draft_scorer
        preview = await info.context.run(drafts.preview_edit, str(id), content, scorer)
        return DraftPreview.from_domain(preview)

    @strawberry.mutation(
        description="SERVICE, ADMIN: the measured result after shipping (e.g. the actual "
        "open rate); the draft scorer learns from it."
    )
    @returns_problems[RecommendationResult](NotFound, Forbidden, InvalidInput, Conflict)
    async def record_outcome(
        self, info: Info, id: strawberry.ID, value: float
    ) -> RecommendationResult:
        item = await info.context.run(drafts.record_outcome, str(id), value)
        return RecommendationSuccess(
            recommendation=Recommendation.from_domain(item, info.context.now)
        )
