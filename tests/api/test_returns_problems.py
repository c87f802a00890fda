"""returns_problems: a domain error becomes the problem its resolver lists; any other is
raised on and answered as an unexpected error, as a problem its union lacks always was."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
import strawberry
from prometheus_client import REGISTRY
from strawberry.extensions import MaskErrors

from api.schema.common.problems import Conflict, NotFound, returns_problems
from api.schema.extensions import _is_unexpected
from domain.errors import AuthenticationError, ConflictError, DomainError, NotFoundError


@strawberry.type
class Found:
    name: str


FindResult = Annotated[Found | NotFound, strawberry.union("FindResult")]


def _schema(raised: DomainError | None) -> strawberry.Schema:
    @strawberry.type
    class Query:
        @strawberry.field
        @returns_problems[FindResult](NotFound)
        async def find(self) -> FindResult:
            if raised is not None:
                raise raised
            return Found(name="it")

        @strawberry.field
        async def unlisted(self) -> FindResult:
            """What a resolver answered before, returning a problem its union lacks."""
            lacking: Any = Conflict(message="taken")
            return lacking

    # The request pipeline masks unexpected errors the same way (api.schema.extensions).
    masked = MaskErrors(should_mask_error=_is_unexpected, error_message="Unexpected error.")
    return strawberry.Schema(Query, types=[Conflict], extensions=[lambda: masked])


def _problems(kind: str) -> float:
    return REGISTRY.get_sample_value("arbiter_problems_total", {"type": kind}) or 0.0


async def test_a_listed_problem_is_the_answer_and_is_counted() -> None:
    before = _problems("NotFound")
    result = await _schema(NotFoundError("no such thing")).execute(
        "{ find { __typename ... on NotFound { message } } }"
    )
    assert result.errors is None
    assert result.data == {"find": {"__typename": "NotFound", "message": "no such thing"}}
    assert _problems("NotFound") == before + 1


async def test_a_success_passes_through() -> None:
    result = await _schema(None).execute("{ find { __typename ... on Found { name } } }")
    assert result.data == {"find": {"__typename": "Found", "name": "it"}}


async def test_a_problem_the_union_lacks_is_an_unexpected_error_as_it_was() -> None:
    before = _problems("Conflict")
    raised = ConflictError("taken")
    result = await _schema(raised).execute("{ find { __typename } }")
    earlier = await _schema(None).execute("{ unlisted { __typename } }")
    assert result.data is None and earlier.data is None
    assert [e.message for e in result.errors or []] == ["Unexpected error."]
    assert [e.message for e in earlier.errors or []] == ["Unexpected error."]
    assert _problems("Conflict") == before  # never answered, so not counted


async def test_an_error_without_a_problem_is_raised_on() -> None:
    result = await _schema(AuthenticationError("who are you")).execute("{ find { __typename } }")
    assert [e.message for e in result.errors or []] == ["Unexpected error."]


def test_only_problems_may_be_listed() -> None:
    with pytest.raises(TypeError, match="Found is not a Problem"):
        returns_problems[FindResult](Found)
