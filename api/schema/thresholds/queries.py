"""recommendThreshold(workflow, maxAutoApproveError, confidenceLevel, window)."""

from __future__ import annotations

import strawberry

from api.schema.common.enums import Window
from api.schema.common.problems import PublicError
from api.schema.common.types import Info
from api.schema.thresholds.types import ThresholdRecommendation
from domain import thresholds
from domain.errors import ForbiddenError, InvalidInputError
from store.threshold_evidence import ThresholdReads


@strawberry.type
class ThresholdQueries:
    @strawberry.field(
        description="SENIOR, ADMIN (as simulatePolicy): the lowest autoApproveAt that keeps "
        "auto-approvals wrong at most maxAutoApproveError of the time with probability at "
        "least confidenceLevel, from the window's human labels of the model that proposes "
        "now. maxAutoApproveError outside (0, 1) or confidenceLevel outside (0.5, 1) is a "
        "BAD_USER_INPUT error naming the argument (extensions.field); an unknown workflow, "
        "NOT_FOUND; other roles get FORBIDDEN."
    )
    async def recommend_threshold(
        self,
        info: Info,
        workflow: str,
        max_auto_approve_error: float,
        confidence_level: float = 0.95,
        window: Window | None = Window.QUARTER,
    ) -> ThresholdRecommendation:
        try:
            thresholds.require_rights(info.context.viewer.role)
        except ForbiddenError as error:
            raise PublicError(error.message, "FORBIDDEN") from error
        model = await info.context.reads()
        found = await model.workflow_by_key(workflow)
        if found is None:
            raise PublicError(f"no workflow with key {workflow!r}", "NOT_FOUND")
        try:
            thresholds.validate_targets(max_auto_approve_error, confidence_level)
        except InvalidInputError as error:
            problem = PublicError(error.message, "BAD_USER_INPUT")
            problem.extensions["field"] = error.field or "maxAutoApproveError"
            raise problem from error
        recommendation = await ThresholdReads.over(model).recommend_threshold(
            found,
            window or Window.QUARTER,  # an explicit null: the default
            info.context.now,
            max_auto_approve_error,
            confidence_level,
        )
        return ThresholdRecommendation.from_domain(recommendation)
