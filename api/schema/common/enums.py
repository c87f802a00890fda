"""The domain's enums, exposed to GraphQL under the contract's names."""

from __future__ import annotations

import strawberry

from domain import enums

Role = strawberry.enum(enums.Role, name="Role")
WorkflowKind = strawberry.enum(enums.WorkflowKind, name="WorkflowKind")
ReviewerRole = strawberry.enum(enums.ReviewerRole, name="ReviewerRole")
Tier = strawberry.enum(enums.Tier, name="Tier")
FloorAction = strawberry.enum(enums.FloorAction, name="FloorAction")
RecommendationStatus = strawberry.enum(enums.RecommendationStatus, name="RecommendationStatus")
Verdict = strawberry.enum(enums.Verdict, name="Verdict")
