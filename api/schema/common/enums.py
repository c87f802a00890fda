"""The domain's enums, registered with Strawberry under the contract's names.

strawberry.enum marks the class in place, so GraphQL and the domain share one
enum class and values pass through resolvers unconverted.
"""

from __future__ import annotations

import strawberry

from domain.enums import (
    ConsensusState,
    FloorAction,
    RecommendationStatus,
    ReviewerRole,
    Role,
    Tier,
    Verdict,
    Window,
    WorkflowKind,
)
from domain.events import QueueEventKind
from domain.jobs import JobKind, JobState
from domain.learning import ModelEventKind, ModelKind, ModelStatus
from domain.webhooks import DeliveryStatus

for _enum in (
    Role,
    WorkflowKind,
    ReviewerRole,
    Tier,
    FloorAction,
    RecommendationStatus,
    Verdict,
    Window,
    JobKind,
    JobState,
    ModelKind,
    ModelStatus,
    ModelEventKind,
    DeliveryStatus,
    QueueEventKind,
    ConsensusState,
):
    strawberry.enum(_enum)

__all__ = [
    "ConsensusState",
    "DeliveryStatus",
    "FloorAction",
    "JobKind",
    "JobState",
    "ModelEventKind",
    "ModelKind",
    "ModelStatus",
    "QueueEventKind",
    "RecommendationStatus",
    "ReviewerRole",
    "Role",
    "Tier",
    "Verdict",
    "Window",
    "WorkflowKind",
]
