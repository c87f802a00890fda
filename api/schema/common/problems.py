"""Typed problems: domain errors as data, members of each mutation's result union."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.schema.common.enums import RecommendationStatus
from domain import errors
from workers import metrics


@strawberry.interface
class Problem:
    message: str


@strawberry.type
class NotFound(Problem):
    pass


@strawberry.type
class Forbidden(Problem):
    pass


@strawberry.type
class InvalidInput(Problem):
    field: str | None = None


@strawberry.type
class Conflict(Problem):
    current_status: RecommendationStatus | None = None
    current_version: int | None = None


@strawberry.type
class ConfirmationRequired(Problem):
    token: str
    expires_at: datetime


@strawberry.type
class QueueEmpty(Problem):
    pass


def problem(error: errors.DomainError) -> Problem:
    """The union member for a domain error."""
    found = _problem(error)
    metrics.PROBLEMS.labels(type(found).__name__).inc()
    return found


def _problem(error: errors.DomainError) -> Problem:
    if isinstance(error, errors.NotFoundError):
        return NotFound(message=error.message)
    if isinstance(error, errors.ForbiddenError):
        return Forbidden(message=error.message)
    if isinstance(error, errors.InvalidInputError):
        return InvalidInput(message=error.message, field=error.field)
    if isinstance(error, errors.ConflictError):
        status = RecommendationStatus(error.current_status) if error.current_status else None
        return Conflict(
            message=error.message, current_status=status, current_version=error.current_version
        )
    if isinstance(error, errors.ConfirmationRequiredError):
        return ConfirmationRequired(
            message=error.message, token=error.token, expires_at=error.expires_at
        )
    if isinstance(error, errors.QueueEmptyError):
        return QueueEmpty(message=error.message)
    raise error


class PublicError(Exception):
    """A query-level error whose message is safe to show (not masked)."""

    def __init__(self, message: str, code: str = "BAD_REQUEST") -> None:
        super().__init__(message)
        self.extensions = {"code": code}
