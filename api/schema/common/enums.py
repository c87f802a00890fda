"""The domain's enums, registered with Strawberry under the contract's names.

strawberry.enum marks the class in place, so GraphQL and the domain share one
enum class and values pass through resolvers unconverted.
"""

from __future__ import annotations

import strawberry

from domain.enums import (
    FloorAction,
    RecommendationStatus,
    ReviewerRole,
    Role,
    Tier,
    Verdict,
    Window,
    WorkflowKind,
)

for _enum in (
    Role,
    WorkflowKind,
    ReviewerRole,
    Tier,
    FloorAction,
    RecommendationStatus,
    Verdict,
    Window,
):
    strawberry.enum(_enum)

__all__ = [
    "FloorAction",
    "RecommendationStatus",
    "ReviewerRole",
    "Role",
    "Tier",
    "Verdict",
    "Window",
    "WorkflowKind",
]
