"""submitCases, startRetraining, mineOverrideThemes."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.schema.common.enums import Window
from api.schema.common.problems import Forbidden, InvalidInput, NotFound, returns_problems
from api.schema.common.types import JSON, Info
from api.schema.jobs.types import Job
from api.schema.learning.types import JobSuccess
from api.schema.recommendations.mutations import SubmitResult, SubmitSuccess
from domain.usecases import learning

JobResult = Annotated[
    JobSuccess | NotFound | Forbidden | InvalidInput, strawberry.union("JobResult")
]


@strawberry.input
class CaseInput:
    payload: JSON
    external_id: str | None = None
    subject: str | None = None
    stakes: float | None = None
    draft: str | None = None


@strawberry.type
class LearningMutations:
    @strawberry.mutation(
        description="SERVICE, ADMIN: the workflow's active model proposes (action, calibrated "
        "confidence, explanation), then the items are routed like submitRecommendations."
    )
    @returns_problems[SubmitResult](NotFound, Forbidden, InvalidInput)
    async def submit_cases(self, info: Info, workflow: str, cases: list[CaseInput]) -> SubmitResult:
        inputs = [
            learning.CaseInput(
                payload=c.payload,
                external_id=c.external_id,
                subject=c.subject,
                stakes=c.stakes,
                draft=c.draft,
            )
            for c in cases
        ]
        scorer = info.context.services.scorer
        result = await info.context.run(learning.submit_cases, workflow, inputs, scorer)
        return SubmitSuccess.of(result, info.context.now)

    @strawberry.mutation(
        description="ADMIN: retrain the workflow's model from its decision log (a job; follow "
        "it with jobProgress). Promoted only if not worse than the current proposals."
    )
    @returns_problems[JobResult](NotFound, Forbidden, InvalidInput)
    async def start_retraining(self, info: Info, workflow: str) -> JobResult:
        job = await info.context.run(learning.start_retraining, workflow)
        return JobSuccess(job=Job.from_domain(job))

    @strawberry.mutation(description="ADMIN: mine the window's override reasons into themes.")
    @returns_problems[JobResult](NotFound, Forbidden, InvalidInput)
    async def mine_override_themes(
        self, info: Info, workflow: str, window: Window | None = Window.MONTH
    ) -> JobResult:
        chosen = (window or Window.MONTH).value
        job = await info.context.run(learning.start_theme_mining, workflow, chosen)
        return JobSuccess(job=Job.from_domain(job))
