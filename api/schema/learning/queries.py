"""overrideThemes(workflow), feedbackReport(workflow)."""

from __future__ import annotations

import strawberry

from api.schema.common.problems import PublicError
from api.schema.common.types import Info
from api.schema.learning.types import FeedbackReport, OverrideThemeReport
from domain.model import Workflow
from store.learning import LearningReads


async def _workflow(info: Info, key: str) -> tuple[LearningReads, Workflow]:
    model = await info.context.reads()
    found = await model.workflow_by_key(key)
    if found is None:
        raise PublicError(f"no workflow with key {key!r}", "NOT_FOUND")
    return LearningReads.over(model), found


@strawberry.type
class LearningQueries:
    @strawberry.field(description="The latest mined themes of the workflow's overrides.")
    async def override_themes(self, info: Info, workflow: str) -> OverrideThemeReport | None:
        model, found = await _workflow(info, workflow)
        report = await model.latest_theme_report(found.id)
        return OverrideThemeReport.from_domain(report) if report else None

    @strawberry.field(
        description="What the latest promotion changed: corrections since the previous one, "
        "the top theme, accuracy before and after, in numbers and words."
    )
    async def feedback_report(self, info: Info, workflow: str) -> FeedbackReport | None:
        model, found = await _workflow(info, workflow)
        report = await model.feedback_report(found.id)
        return FeedbackReport.from_domain(report) if report else None
