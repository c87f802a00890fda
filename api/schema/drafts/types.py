"""DraftPreview."""

from __future__ import annotations

import strawberry

from domain.usecases import drafts


@strawberry.type(name="DraftPreview")
class DraftPreview:
    content: str
    predicted_score: float | None
    original_predicted_score: float | None = strawberry.field(
        description="The same scorer's score of the original draft, so the delta compares "
        "like with like."
    )
    delta: float | None
    message: str | None = strawberry.field(description="Why there is no score, when there is none.")

    @classmethod
    def from_domain(cls, p: drafts.DraftPreview) -> DraftPreview:
        return cls(
            content=p.content,
            predicted_score=p.predicted_score,
            original_predicted_score=p.original_predicted_score,
            delta=p.delta,
            message=p.message,
        )
