"""Hardening: limits on query shape, caches for parsing and validation, masked errors.

Strawberry takes extensions as classes (one instance per request), so the
configured limits are bound into small subclasses here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from graphql import GraphQLError
from strawberry.extensions import (
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)

from api.metrics import CountRequests
from api.schema.common.problems import PublicError
from api.settings import Settings
from api.unavailable import DatabaseUnavailableErrors

CACHE_SIZE = 1024


def _is_unexpected(error: GraphQLError) -> bool:
    """Mask server faults; keep validation errors and our own public errors readable."""
    original = error.original_error
    if original is None:
        return False
    return not isinstance(original, PublicError | GraphQLError)


class CloseReadSession(SchemaExtension):
    """Close the request's read session when the operation ends."""

    async def on_operation(self) -> AsyncIterator[None]:  # type: ignore[override]
        yield
        context = self.execution_context.context
        close = getattr(context, "close", None)
        if close is not None:
            await close()


def extensions_for(settings: Settings) -> list[type[SchemaExtension]]:
    class DepthLimit(QueryDepthLimiter):
        def __init__(self) -> None:
            super().__init__(max_depth=settings.max_query_depth)

    class AliasLimit(MaxAliasesLimiter):
        def __init__(self) -> None:
            super().__init__(max_alias_count=settings.max_aliases)

    class TokenLimit(MaxTokensLimiter):
        def __init__(self) -> None:
            super().__init__(max_token_count=settings.max_tokens)

    class Parsed(ParserCache):
        def __init__(self) -> None:
            super().__init__(maxsize=CACHE_SIZE)

    class Validated(ValidationCache):
        def __init__(self) -> None:
            super().__init__(maxsize=CACHE_SIZE)

    class Masked(MaskErrors):
        def __init__(self) -> None:
            super().__init__(should_mask_error=_is_unexpected, error_message="Unexpected error.")

    return [
        TokenLimit,
        Parsed,
        DepthLimit,
        AliasLimit,
        Validated,
        Masked,
        DatabaseUnavailableErrors,  # after Masked: sees the errors before masking
        CloseReadSession,
        CountRequests,
    ]
