"""What changed, for whoever listens: queue events, job progress and model events.

Each state change writes its events in the same transaction as the change
(an outbox). After commit they are published on the event bus; subscriptions
and webhooks deliver them, at least once, deduplicated by id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.ids import new_id
from domain.learning import ModelEventKind
from domain.model import Recommendation


class QueueEventKind(StrEnum):
    ADDED = "ADDED"
    CLAIMED = "CLAIMED"
    RELEASED = "RELEASED"
    DECIDED = "DECIDED"
    FLAGGED = "FLAGGED"
    ESCALATED = "ESCALATED"
    ASSIGNED = "ASSIGNED"  # pinned to (or taken from) a reviewer or a team
    VOTED = "VOTED"  # one review of several was cast (or taken back); the item is still open
    # A signed checkpoint of the workflow's decision log: for webhooks (witnesses) only,
    # never on the queue's event stream, since it concerns no item.
    CHECKPOINT = "CHECKPOINT"


@dataclass
class QueueEvent:
    """An item changed; `recommendation` is a snapshot of it as it is after the change."""

    id: str
    kind: QueueEventKind
    workflow_id: str
    recommendation: Recommendation
    at: datetime
    actor_id: str | None = None
    decision_id: str | None = None
    previous_tier: str | None = None  # set when the change moved the item between tiers
    seq: int = 0  # commit order, assigned by the store

    @classmethod
    def of(
        cls,
        kind: QueueEventKind,
        item: Recommendation,
        at: datetime,
        actor_id: str | None = None,
        decision_id: str | None = None,
        previous_tier: str | None = None,
    ) -> QueueEvent:
        return cls(
            id=new_id("evt"),
            kind=kind,
            workflow_id=item.workflow_id,
            recommendation=item,
            at=at,
            actor_id=actor_id,
            decision_id=decision_id,
            previous_tier=previous_tier,
        )


@dataclass(frozen=True)
class ModelEvent:
    """A workflow's model was trained, promoted (the feedback report follows) or rejected,
    or drifted (DRIFT: `message` says what moved, `episode` names the drift alarm)."""

    kind: ModelEventKind
    model_id: str
    workflow_id: str
    message: str | None = None
    episode: str | None = None

    @property
    def id(self) -> str:
        """The same in every delivery of this event (a model drifts in several episodes)."""
        base = f"{self.model_id}:{self.kind.value}"
        return f"{base}:{self.episode}" if self.episode else base
