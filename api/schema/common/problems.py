"""Typed problems: domain errors as data, members of each mutation's result union, and
`returns_problems`, the one place a mutation turns a domain error into its problem."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Generic, ParamSpec, TypeVar

import strawberry

from api.metrics import count_problem
from api.schema.common.enums import RecommendationStatus
from domain import errors

P = ParamSpec("P")
R = TypeVar("R")


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
    """The problem a domain error is answered with; an error that has none is raised on."""
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


class returns_problems(Generic[R]):
    """`@returns_problems[SomeResult](NotFound, Conflict)` on a resolver returning the union
    SomeResult: a DomainError raised inside it is answered with its problem when that
    problem is one of those listed, and counted; any other error is raised on, to be
    answered as an unexpected error.

    mypy rejects a listed problem that SomeResult lacks, and a resolver that does not
    return SomeResult. (The union is named in brackets because mypy can hold the listed
    problems against a union only when it knows the union before it sees the resolver.)
    """

    def __init__(self, *problems: type[R]) -> None:
        for listed in problems:
            if not issubclass(listed, Problem):
                raise TypeError(f"{listed.__name__} is not a Problem")
        self.problems = problems

    def __call__(self, resolver: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        admitted = self.problems

        @functools.wraps(resolver)
        async def answer(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return await resolver(*args, **kwargs)
            except errors.DomainError as error:
                found = problem(error)
                for member in admitted:
                    if isinstance(found, member):
                        count_problem(type(found).__name__)
                        return found
                raise

        return answer


class PublicError(Exception):
    """A query-level error whose message is safe to show (not masked)."""

    def __init__(self, message: str, code: str = "BAD_REQUEST") -> None:
        super().__init__(message)
        self.extensions = {"code": code}
