"""Consensus: where an item that needs several reviews stands."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from api.schema.common.enums import ConsensusState
from api.schema.common.types import Info
from domain import model

if TYPE_CHECKING:
    from api.schema.decisions.types import Decision


@strawberry.type(name="Consensus")
class Consensus:
    reviews_required: int
    agreement_required: int
    reviews_in: int
    state: ConsensusState
    _item: strawberry.Private[model.Recommendation]

    @strawberry.field(
        description="The votes, in log order: empty for a reviewer who has not voted yet "
        "while the policy's blindReview holds (admins always see them)."
    )
    async def votes(
        self, info: Info
    ) -> list[Annotated[Decision, strawberry.lazy("api.schema.decisions.types")]]:
        from api.schema.decisions.types import Decision

        ctx = info.context
        if await ctx.hides_votes_on(self._item):
            return []
        found = await ctx.loaders.decisions_of.load(self._item.id)
        return [Decision.from_domain(d) for d in found if d.vote and not d.undone]

    @classmethod
    def of(cls, item: model.Recommendation) -> Consensus | None:
        """None for an item one review decides."""
        if item.consensus_state is None:
            return None
        return cls(
            reviews_required=item.reviews_required,
            agreement_required=item.agreement_required,
            reviews_in=item.votes_in(),
            state=item.consensus_state,
            _item=item,
        )
