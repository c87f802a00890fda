"""approve, reject, flag, override, edit, undo."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Annotated

import strawberry

from api.metrics import observe_decision
from api.schema.common.problems import (
    ConfirmationRequired,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    returns_problems,
)
from api.schema.common.types import Info
from api.schema.decisions.types import Decision
from api.schema.recommendations.types import Recommendation
from domain.enums import Verdict
from domain.usecases.decide import DecisionRequest, decide
from domain.usecases.undo import undo as undo_decision


@strawberry.type
class DecisionSuccess:
    decision: Decision
    recommendation: Recommendation


DecisionResult = Annotated[
    DecisionSuccess | ConfirmationRequired | NotFound | Forbidden | InvalidInput | Conflict,
    strawberry.union("DecisionResult"),
]


@returns_problems[DecisionResult](ConfirmationRequired, NotFound, Forbidden, InvalidInput, Conflict)
async def _decide(info: Info, request: DecisionRequest) -> DecisionResult:
    ttl = timedelta(seconds=info.context.services.settings.confirmation_ttl_seconds)
    started = time.perf_counter()
    decided = await info.context.run(decide, request, ttl, info.context.services.draft_scorer)
    observe_decision(request.verdict.value, time.perf_counter() - started)
    return DecisionSuccess(
        decision=Decision.from_domain(decided.decision),
        recommendation=Recommendation.from_domain(decided.recommendation, info.context.now),
    )


@strawberry.type
class DecisionMutations:
    @strawberry.mutation(description="Approve the proposal: it is to be executed.")
    async def approve(
        self,
        info: Info,
        id: strawberry.ID,
        expected_version: int | None = None,
        confirmation_token: str | None = None,
    ) -> DecisionResult:
        return await _decide(
            info,
            DecisionRequest(
                str(id),
                Verdict.APPROVE,
                expected_version=expected_version,
                confirmation_token=confirmation_token,
            ),
        )

    @strawberry.mutation(description="Reject the proposal: it is discarded.")
    async def reject(
        self,
        info: Info,
        id: strawberry.ID,
        reason: str | None = None,
        expected_version: int | None = None,
        confirmation_token: str | None = None,
    ) -> DecisionResult:
        return await _decide(
            info,
            DecisionRequest(
                str(id),
                Verdict.REJECT,
                reason=reason,
                expected_version=expected_version,
                confirmation_token=confirmation_token,
            ),
        )

    @strawberry.mutation(description="Park the item for later with a note; it stays decidable.")
    async def flag(
        self, info: Info, id: strawberry.ID, note: str, expected_version: int | None = None
    ) -> DecisionResult:
        return await _decide(
            info,
            DecisionRequest(str(id), Verdict.FLAG, reason=note, expected_version=expected_version),
        )

    @strawberry.mutation(
        description="EXPERT workflows: choose another of the workflow's actions, saying why."
    )
    async def override(
        self,
        info: Info,
        id: strawberry.ID,
        action: str,
        reason: str,
        reason_tags: list[str] | None = None,
        expected_version: int | None = None,
        confirmation_token: str | None = None,
    ) -> DecisionResult:
        return await _decide(
            info,
            DecisionRequest(
                str(id),
                Verdict.OVERRIDE,
                reason=reason,
                reason_tags=reason_tags,
                action=action,
                expected_version=expected_version,
                confirmation_token=confirmation_token,
            ),
        )

    @strawberry.mutation(description="EDITOR and EXPERT DRAFT workflows: ship an edited draft.")
    async def edit(
        self,
        info: Info,
        id: strawberry.ID,
        content: str,
        expected_version: int | None = None,
        confirmation_token: str | None = None,
    ) -> DecisionResult:
        return await _decide(
            info,
            DecisionRequest(
                str(id),
                Verdict.EDIT,
                content=content,
                expected_version=expected_version,
                confirmation_token=confirmation_token,
            ),
        )

    @strawberry.mutation(
        description="Take back your own decision (ADMIN: anyone's) within the policy's "
        "undoSeconds, as long as it is the item's latest, was a reviewer's APPROVE, REJECT, "
        "OVERRIDE, EDIT or FLAG, and no webhook delivered it yet. The item goes back to its "
        "queue, the decision reads undone, and the undo is logged as an UNDO decision. "
        "Conflict when the window closed, it was undone already, another decision followed "
        "or a webhook delivered it; Forbidden for someone else's decision."
    )
    @returns_problems[DecisionResult](
        ConfirmationRequired, NotFound, Forbidden, InvalidInput, Conflict
    )
    async def undo(self, info: Info, decision_id: strawberry.ID) -> DecisionResult:
        undone = await info.context.run(undo_decision, str(decision_id))
        return DecisionSuccess(
            decision=Decision.from_domain(undone.decision),
            recommendation=Recommendation.from_domain(undone.recommendation, info.context.now),
        )
