"""QueueEvent and QueueEventKind."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.schema.common.enums import QueueEventKind, Tier
from api.schema.common.types import Info
from api.schema.decisions.types import Decision
from api.schema.recommendations.types import Recommendation
from api.schema.users.types import User, load_user
from domain import events


@strawberry.type(name="QueueEvent")
class QueueEvent:
    id: strawberry.ID = strawberry.field(
        description="The event's id: the same in every delivery of it (subscriptions, webhooks)."
    )
    kind: QueueEventKind
    at: datetime
    recommendation: Recommendation = strawberry.field(
        description="The item as it is after the change."
    )
    previous_tier: Tier | None = strawberry.field(
        description="When the change moved the item to another tier: the tier it left."
    )
    _event: strawberry.Private[events.QueueEvent]

    @strawberry.field
    async def actor(self, info: Info) -> User | None:
        return await load_user(info, self._event.actor_id)

    @strawberry.field(description="The decision this event reports, when there is one.")
    async def decision(self, info: Info) -> Decision | None:
        if self._event.decision_id is None:
            return None
        found = await info.context.loaders.decision.load(self._event.decision_id)
        if found is None or not await info.context.sees_decision(found):
            return None  # blind review: a vote the subscriber has not earned the sight of
        return Decision.from_domain(found)

    @classmethod
    def from_domain(cls, event: events.QueueEvent, now: datetime) -> QueueEvent:
        return cls(
            id=strawberry.ID(event.id),
            kind=event.kind,
            at=event.at,
            recommendation=Recommendation.from_domain(event.recommendation, now),
            previous_tier=Tier(event.previous_tier) if event.previous_tier else None,
            _event=event,
        )
