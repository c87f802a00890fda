"""The GraphQL schema: one package per feature, merged here."""

from __future__ import annotations

from functools import lru_cache

import strawberry
from graphql import GraphQLError
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from api.schema.analytics.agreement import AgreementQueries
from api.schema.analytics.months import LearningMonthQueries
from api.schema.analytics.queries import AnalyticsQueries
from api.schema.common.problems import PublicError
from api.schema.decisions.mutations import DecisionMutations
from api.schema.decisions.queries import DecisionQueries
from api.schema.drafts.mutations import DraftMutations
from api.schema.extensions import extensions_for
from api.schema.inputs import build_inputs_with_plans
from api.schema.jobs.queries import JobQueries
from api.schema.learning.mutations import LearningMutations
from api.schema.learning.queries import LearningQueries
from api.schema.learning.subscriptions import LearningSubscriptions
from api.schema.live.subscriptions import LiveSubscriptions
from api.schema.log.queries import LogQueries
from api.schema.node import NodeQueries
from api.schema.recommendations.mutations import RecommendationMutations
from api.schema.recommendations.queries import RecommendationQueries
from api.schema.teams.mutations import TeamMutations
from api.schema.teams.queries import TeamQueries
from api.schema.thresholds.queries import ThresholdQueries
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
        LearningQueries,
        AnalyticsQueries,
        AgreementQueries,
        LearningMonthQueries,
        ThresholdQueries,
        TeamQueries,
        LogQueries,
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
        LearningMutations,
        DraftMutations,
        TeamMutations,
    ),
)

Subscription = merge_types("Subscription", (LiveSubscriptions, LearningSubscriptions))


class ArbiterSchema(strawberry.Schema):
    """Logs server faults, not the errors we raise on purpose for callers, nor the
    client's mistakes (a document that does not parse or validate has no original error)."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        unexpected = [
            e
            for e in errors
            if e.original_error is not None and not isinstance(e.original_error, PublicError)
        ]
        if unexpected:
            super().process_errors(unexpected, execution_context)


def build_schema(settings: Settings) -> strawberry.Schema:
    schema = ArbiterSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions_for(settings),
    )
    build_inputs_with_plans(schema)
    return schema


@lru_cache
def sdl() -> str:
    """The schema's SDL, as exported to schema.graphql."""
    return build_schema(Settings()).as_str() + "\n"
