"""agreement: how far reviewers agree when several review each item, and how reliable each
one is (AgreementReport, ReviewerPairAgreement, ReviewerReliability)."""

from __future__ import annotations

import strawberry

from api.schema.analytics.queries import analytics_workflow, scope_of
from api.schema.common.enums import Window
from api.schema.common.types import Info
from api.schema.users.types import User, load_user
from api.schema.workflows.types import Workflow
from domain import agreement, agreement_report, analytics
from domain.model import Workflow as DomainWorkflow
from store.agreement_reads import AgreementReads


async def _user(info: Info, user_id: str) -> User:
    found = await load_user(info, user_id)
    assert found is not None, user_id
    return found


@strawberry.type(
    name="ReviewerReliability",
    description="One reviewer's votes in the window and how reliable they look.",
)
class ReviewerReliability:
    reviews: int = strawberry.field(description="Items this reviewer voted on.")
    agreement_with_consensus: float | None = strawberry.field(
        description="On their items that reached a consensus or were adjudicated, the share "
        "of their votes equal to that outcome; null without such items."
    )
    estimated_accuracy: float | None = strawberry.field(
        description="Dawid-Skene estimate of how often this reviewer's call is the true one "
        "(every reviewer and the model's proposals fitted together); null when no item has "
        "two votes."
    )
    _reviewer_id: strawberry.Private[str]

    @strawberry.field
    async def reviewer(self, info: Info) -> User:
        return await _user(info, self._reviewer_id)

    @classmethod
    def from_domain(cls, r: agreement.ReviewerReliability) -> ReviewerReliability:
        return cls(
            reviews=r.reviews,
            agreement_with_consensus=r.agreement_with_consensus,
            estimated_accuracy=r.estimated_accuracy,
            _reviewer_id=r.reviewer_id,
        )


@strawberry.type(
    name="ReviewerPairAgreement",
    description="Two reviewers on the items both voted on (listed from 10 shared items).",
)
class ReviewerPairAgreement:
    items: int = strawberry.field(description="Items both reviewed.")
    agreement: float = strawberry.field(description="Share of those items they agreed on.")
    cohen_kappa: float | None = strawberry.field(
        description="Their agreement corrected for chance; null when undefined (both always "
        "gave one label)."
    )
    _first_id: strawberry.Private[str]
    _second_id: strawberry.Private[str]

    @strawberry.field
    async def first(self, info: Info) -> User:
        return await _user(info, self._first_id)

    @strawberry.field
    async def second(self, info: Info) -> User:
        return await _user(info, self._second_id)


@strawberry.type(
    name="AgreementReport",
    description="Agreement among reviewers over the votes cast in the window (decisions "
    "that were one review among several, not undone). Each vote's label is its outcome: "
    "its final action, or a rejection. An ANALYST sees the overall figures, its own "
    "reviewer row and the pairs it is in.",
)
class AgreementReport:
    workflow: Workflow
    window: Window
    items: int = strawberry.field(
        description="Items with at least two human reviews in the window."
    )
    percent_agreement: float | None = strawberry.field(
        description="The chance that two votes on the same item agree, averaged over items; "
        "null without items."
    )
    krippendorff_alpha: float | None = strawberry.field(
        description="Nominal alpha over each review's outcome (its final action): 1 perfect, "
        "0 no better than chance; null without items or when every vote is one label."
    )
    pairs: list[ReviewerPairAgreement]
    reviewers: list[ReviewerReliability]

    @classmethod
    def from_domain(
        cls, figures: agreement.AgreementFigures, workflow: DomainWorkflow, window: Window
    ) -> AgreementReport:
        return cls(
            workflow=Workflow.from_domain(workflow),
            window=window,
            items=figures.items,
            percent_agreement=figures.percent_agreement,
            krippendorff_alpha=figures.krippendorff_alpha,
            pairs=[
                ReviewerPairAgreement(
                    items=p.items,
                    agreement=p.agreement,
                    cohen_kappa=p.cohen_kappa,
                    _first_id=p.first,
                    _second_id=p.second,
                )
                for p in figures.pairs
            ],
            reviewers=[ReviewerReliability.from_domain(r) for r in figures.reviewers],
        )


@strawberry.type
class AgreementQueries:
    @strawberry.field(
        description="ANALYST, SENIOR, ADMIN: agreement and reliability of the reviewers of "
        "a workflow whose items need several reviews. SERVICE gets a FORBIDDEN error; an "
        "unknown workflow, NOT_FOUND; a workflow of teams one is not in, FORBIDDEN."
    )
    async def agreement(
        self, info: Info, workflow: str, window: Window = Window.MONTH
    ) -> AgreementReport:
        scope = scope_of(info, "reading agreement")
        model, found = await analytics_workflow(info, workflow)
        since = analytics.window_since(window, info.context.now)
        votes = await AgreementReads.over(model).votes(found.id, since, scope.tiers)
        figures = agreement_report.agreement_report(votes)
        return AgreementReport.from_domain(
            agreement_report.seen_by(figures, scope.only_reviewer), found, window
        )
