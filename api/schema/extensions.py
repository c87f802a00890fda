"""The request pipeline: limits on query shape, trusted documents, who may introspect,
cached parsing and validation, masked errors, the read session closed, the request
counted.

All of it is one extension: Strawberry builds every extension and wraps each of
its hooks on every request, and with eight small ones that bookkeeping cost more
than executing a small query.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Iterator
from functools import lru_cache
from typing import Any

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import (
    FieldNode,
    GraphQLError,
    ValidationRule,
    get_named_type,
    is_introspection_type,
    parse,
)
from starlette.requests import Request
from strawberry.extensions import MaskErrors, SchemaExtension
from strawberry.extensions.max_aliases import create_validator as alias_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.schema.schema import validate_document
from strawberry.types.execution import ExecutionResult, StreamExecutionResult
from strawberry.types.graphql import OperationType

from api.metrics import count_request
from api.schema.common.problems import PublicError
from api.schema.document_limits import fragment_nesting_errors, operation_choice_errors
from api.settings import Settings
from api.trusted_documents import trusted_documents_only_error
from api.unavailable import answer_database_unavailable
from domain.enums import Role

CACHE_SIZE = 1024
_SUGGESTION = re.compile(r" Did you mean .*\?$", re.DOTALL)


def _is_unexpected(error: GraphQLError) -> bool:
    """Mask server faults; keep validation errors and our own public errors readable."""
    original = error.original_error
    if original is None:
        return False
    return not isinstance(
        original,
        PublicError | GraphQLError | InvalidOperationTypeError | CannotGetOperationTypeError,
    )


def _without_suggestions(errors: list[GraphQLError]) -> list[GraphQLError]:
    """The errors without "Did you mean ...?", which would spell out the schema."""
    return [
        GraphQLError(
            _SUGGESTION.sub("", e.message),
            e.nodes,
            e.source,
            e.positions,
            e.path,
            e.original_error,
            e.extensions,
        )
        if " Did you mean " in e.message
        else e
        for e in errors
    ]


class AdminOnlyIntrospection(ValidationRule):
    """Refuses __schema and __type for callers who may not introspect."""

    def enter_field(self, node: FieldNode, *_args: Any) -> None:
        field = self.context.get_field_def()
        if field is not None and is_introspection_type(get_named_type(field.type)):
            self.report_error(
                GraphQLError(
                    f"introspection is not allowed for your role here (only admins may): "
                    f"the query asks for '{node.name.value}'",
                    node,
                )
            )


# Keyed by the query text (and token limit), and by the document and rule classes:
# the rules are made once per schema below so that repeated queries hit.
cached_parse: Callable[..., Any] = lru_cache(maxsize=CACHE_SIZE)(parse)
cached_validate: Callable[..., Any] = lru_cache(maxsize=CACHE_SIZE)(validate_document)


def extensions_for(settings: Settings) -> list[type[SchemaExtension]]:
    shape_rules = (depth_rule(settings.max_query_depth, None), alias_rule(settings.max_aliases))
    closed_rules = (*shape_rules, AdminOnlyIntrospection)
    max_tokens = settings.max_tokens
    trusted_only = settings.trusted_documents_only
    introspection_for_admins_only = settings.introspection == "admin"

    class RequestPipeline(SchemaExtension):
        def __init__(self) -> None:
            self.masking = MaskErrors(
                should_mask_error=_is_unexpected, error_message="Unexpected error."
            )
            self.trusted = False
            self.refused = False
            self.closed_schema = False

        async def on_operation(self) -> AsyncIterator[None]:
            context = self.execution_context
            request = context.context
            user = getattr(request, "user", None)
            is_admin = user is not None and user.role == Role.ADMIN
            registry = request.services.trusted_documents
            if trusted_only and not is_admin:
                self.trusted = await registry.is_trusted(request.services, context.query)
                self.refused = not self.trusted
            else:
                self.trusted = registry.knows(context.query)
            self.closed_schema = introspection_for_admins_only and not is_admin
            context.parse_options["max_tokens"] = max_tokens
            context.validation_rules = context.validation_rules + (
                closed_rules if self.closed_schema else shape_rules
            )
            yield
            count_request(context)
            close = getattr(request, "close", None)
            if close is not None:
                await close()
            answer_database_unavailable(context)  # sees the errors before they are masked
            result = context.result
            if isinstance(result, GraphQLExecutionResult | ExecutionResult):
                self.masking._process_result(result)

        def on_stream_result(self, result: StreamExecutionResult) -> Iterator[None]:
            yield from self.masking.on_stream_result(result)

        def on_parse(self) -> Iterator[None]:
            context = self.execution_context
            registry = context.context.services.trusted_documents
            try:
                if self.trusted:
                    context.graphql_document = registry.parsed(context.query, context.parse_options)
                else:
                    context.graphql_document = cached_parse(context.query, **context.parse_options)
            except GraphQLError:
                # Left unparsed, Strawberry parses it again inside its own error handling,
                # which answers every transport (a WebSocket too) with the syntax error.
                context.graphql_document = None
            yield

        def on_validate(self) -> Iterator[None]:
            context = self.execution_context
            if self.refused:
                context.pre_execution_errors = [trusted_documents_only_error()]
                yield
                return
            document = context.graphql_document
            if (
                isinstance(context.context.request, Request)
                and document is not None
                and operation_choice_errors(document, context._provided_operation_name) is None
                and context.operation_type == OperationType.SUBSCRIPTION
            ):
                # Strawberry would run it as a query; subscriptions are WebSocket only.
                raise InvalidOperationTypeError(OperationType.SUBSCRIPTION)
            # Before validation: a long fragment chain overflows the stack inside it.
            provided = context._provided_operation_name  # .operation_name falls back
            errors = fragment_nesting_errors(document) or operation_choice_errors(
                document, provided
            )
            if errors is None:
                schema, rules = context.schema._schema, tuple(context.validation_rules)
                if self.trusted:
                    registry = context.context.services.trusted_documents
                    errors = registry.validated(
                        context.query, validate_document, schema, document, rules
                    )
                else:
                    errors = cached_validate(schema, document, rules)
            if errors and self.closed_schema:
                errors = _without_suggestions(errors)
            context.pre_execution_errors = errors
            yield

    return [RequestPipeline]
