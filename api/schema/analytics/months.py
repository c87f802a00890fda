"""learningByMonth(workflow, months): the loop, month by month, from the decision log."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import strawberry

from api.schema.analytics.queries import analytics_workflow, scope_of
from api.schema.common.problems import PublicError
from api.schema.common.types import Info
from domain import learning_months
from domain.errors import InvalidInputError
from store.learning_months import LearningMonthReads


@strawberry.type(
    name="LearningMonth",
    description="One calendar month (UTC) of the loop as the decision log tells it. Counts "
    "APPROVE, REJECT, EDIT and OVERRIDE decisions made in the month (FLAG, UNDO, "
    "REQUEST_MORE_DATA, undone decisions and canaries are left out); an ANALYST counts "
    "only the tiers it may read.",
)
class LearningMonth:
    start: datetime
    end: datetime = strawberry.field(description="Exclusive: the next month's start.")
    submitted: int = strawberry.field(description="Items submitted in the month.")
    human_decisions: int = strawberry.field(description="Decisions people made.")
    automated_approvals: int = strawberry.field(
        description="Approvals the ladder made by itself (auto-approvals)."
    )
    agreement_rate: float | None = strawberry.field(
        description="Share of human decisions approving the proposal as it was; null "
        "without human decisions."
    )
    override_rate: float | None
    automated_share: float | None = strawberry.field(
        description="Automated approvals among all the month's counted decisions."
    )
    audited: int = strawberry.field(
        description="Audit samples (would-be auto-approvals sent to a person) decided."
    )
    auto_approve_error: float | None = strawberry.field(
        description="Share of the audit samples the person did not approve: the estimated "
        "error of auto-approval; null without audit samples."
    )
    proposing_versions: list[str] = strawberry.field(
        description="modelVersion of the month's items, busiest first (an empty string "
        "for items submitted without one)."
    )
    promoted: list[str] = strawberry.field(
        description='Classifier versions promoted in the month ("v3"), in order.'
    )
    drift_alarms: int = strawberry.field(description="Drift alarms raised in the month.")

    @classmethod
    def from_domain(cls, m: learning_months.LearningMonth) -> LearningMonth:
        """Field for field: the GraphQL type names the domain's fields in camelCase."""
        return cls(**{f.name: getattr(m, f.name) for f in dataclasses.fields(m)})


@strawberry.type
class LearningMonthQueries:
    @strawberry.field(
        description="ANALYST, SENIOR, ADMIN: the last `months` calendar months (1 to 24, "
        "the current one last), oldest first. months outside 1..24 is a BAD_USER_INPUT "
        "error (extensions.field: months); SERVICE gets FORBIDDEN, an unknown workflow "
        "NOT_FOUND."
    )
    async def learning_by_month(
        self, info: Info, workflow: str, months: int = 6
    ) -> list[LearningMonth]:
        scope = scope_of(info, "reading the loop by month")
        model, found = await analytics_workflow(info, workflow)
        reads = LearningMonthReads.over(model)
        try:
            found_months = await reads.learning_by_month(
                found, info.context.now, months, scope.tiers
            )
        except InvalidInputError as error:
            problem = PublicError(error.message, "BAD_USER_INPUT")
            problem.extensions["field"] = error.field or "months"
            raise problem from error
        return [LearningMonth.from_domain(m) for m in found_months]
