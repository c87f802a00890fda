"""The request pipeline: limits on query shape, cached parsing and validation, masked
errors, the read session closed, the request counted.

All of it is one extension: Strawberry builds every extension and wraps each of
its hooks on every request, and with eight small ones that bookkeeping cost more
than executing a small query.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from functools import lru_cache
from typing import Any

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError, parse
from strawberry.extensions import MaskErrors, SchemaExtension
from strawberry.extensions.max_aliases import create_validator as alias_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.schema.schema import validate_document
from strawberry.types.execution import ExecutionResult

from api.metrics import count_request
from api.schema.common.problems import PublicError
from api.schema.document_limits import fragment_nesting_errors, operation_choice_errors
from api.settings import Settings
from api.unavailable import answer_database_unavailable

CACHE_SIZE = 1024


def _is_unexpected(error: GraphQLError) -> bool:
    """Mask server faults; keep validation errors and our own public errors readable."""
    original = error.original_error
    if original is None:
        return False
    return not isinstance(
        original,
        PublicError | GraphQLError | InvalidOperationTypeError | CannotGetOperationTypeError,
    )


# Keyed by the query text (and token limit), and by the document and rule classes:
# the rules are made once per schema below so that repeated queries hit.
cached_parse: Callable[..., Any] = lru_cache(maxsize=CACHE_SIZE)(parse)
cached_validate: Callable[..., Any] = lru_cache(maxsize=CACHE_SIZE)(validate_document)


def extensions_for(settings: Settings) -> list[type[SchemaExtension]]:
    shape_rules = (depth_rule(settings.max_query_depth, None), alias_rule(settings.max_aliases))
    max_tokens = settings.max_tokens

    class RequestPipeline(MaskErrors):
        def __init__(self) -> None:
            super().__init__(should_mask_error=_is_unexpected, error_message="Unexpected error.")

        async def on_operation(self) -> AsyncIterator[None]:  # type: ignore[override]
            context = self.execution_context
            context.parse_options["max_tokens"] = max_tokens
            context.validation_rules = context.validation_rules + shape_rules
            yield
            count_request(context)
            close = getattr(context.context, "close", None)
            if close is not None:
                await close()
            answer_database_unavailable(context)  # sees the errors before they are masked
            result = context.result
            if isinstance(result, GraphQLExecutionResult | ExecutionResult):
                self._process_result(result)

        def on_parse(self) -> Iterator[None]:
            context = self.execution_context
            try:
                context.graphql_document = cached_parse(context.query, **context.parse_options)
            except GraphQLError:
                # Left unparsed, Strawberry parses it again inside its own error handling,
                # which answers every transport (a WebSocket too) with the syntax error.
                context.graphql_document = None
            yield

        def on_validate(self) -> Iterator[None]:
            context = self.execution_context
            # Before validation: a long fragment chain overflows the stack inside it.
            document = context.graphql_document
            provided = context._provided_operation_name  # .operation_name falls back
            context.pre_execution_errors = (
                fragment_nesting_errors(document)
                or operation_choice_errors(document, provided)
                or cached_validate(context.schema._schema, document, context.validation_rules)
            )
            yield

    return [RequestPipeline]
