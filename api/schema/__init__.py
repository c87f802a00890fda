"""The GraphQL schema: one package per feature, merged here."""

from __future__ import annotations

from functools import lru_cache

import strawberry
from strawberry.tools import merge_types

from api.schema.decisions.mutations import DecisionMutations
from api.schema.decisions.queries import DecisionQueries
from api.schema.extensions import extensions_for
from api.schema.jobs.queries import JobQueries
from api.schema.live.subscriptions import LiveSubscriptions
from api.schema.node import NodeQueries
from api.schema.recommendations.mutations import RecommendationMutations
from api.schema.recommendations.queries import RecommendationQueries
from api.schema.users.mutations import UserMutations
from api.schema.users.queries import UserQueries
from api.schema.webhooks.mutations import WebhookMutations
from api.schema.webhooks.queries import WebhookQueries
from api.schema.workflows.mutations import WorkflowMutations
from api.schema.workflows.queries import WorkflowQueries
from api.settings import Settings

Query = merge_types(
    "Query",
    (
        NodeQueries,
        UserQueries,
        WorkflowQueries,
        RecommendationQueries,
        DecisionQueries,
        JobQueries,
        WebhookQueries,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        RecommendationMutations,
        DecisionMutations,
        UserMutations,
        WorkflowMutations,
        WebhookMutations,
    ),
)

Subscription = merge_types("Subscription", (LiveSubscriptions,))


def build_schema(settings: Settings) -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions_for(settings),
    )


@lru_cache
def sdl() -> str:
    """The schema's SDL, as exported to schema.graphql."""
    return build_schema(Settings()).as_str() + "\n"
