"""Does a GraphQL response fit the schema and the query that asked for it?

`problems(schema, query, variables, body)` walks the query's selections with
graphql-core's type system next to the response's `data` and lists what is
wrong: keys that were not asked for or are missing, null where the schema says
non-null, values of the wrong scalar or enum, an abstract value no possible
type fits, and server faults that the error mask hid ("Unexpected error.").
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import graphql
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLAbstractType,
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

MASKED = "Unexpected error."

Path = tuple[str | int, ...]


def _directive_skips(node: Any, variables: dict[str, Any]) -> bool:
    """@skip(if: ...) / @include(if: ...) with a literal or a variable."""
    for directive in node.directives or ():
        name = directive.name.value
        if name not in ("skip", "include"):
            continue
        for argument in directive.arguments or ():
            if argument.name.value != "if":
                continue
            value = graphql.value_from_ast_untyped(argument.value, variables)
            if name == "skip" and value is True:
                return True
            if name == "include" and value is not True:
                return True
    return False


class _Checker:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables

    def _applies(self, condition: Any, object_type: GraphQLObjectType) -> bool:
        if condition is None:
            return True
        named = self.schema.get_type(condition.name.value)
        if named is object_type:
            return True
        if isinstance(named, GraphQLAbstractType):
            return self.schema.is_sub_type(named, object_type)
        return False

    def collect(
        self,
        object_type: GraphQLObjectType,
        selection_sets: list[SelectionSetNode],
        seen: frozenset[str] = frozenset(),
    ) -> dict[str, list[FieldNode]]:
        """Response key -> the field nodes merged under it, for a concrete type."""
        fields: dict[str, list[FieldNode]] = {}
        for selection_set in selection_sets:
            for selection in selection_set.selections:
                if _directive_skips(selection, self.variables):
                    continue
                if isinstance(selection, FieldNode):
                    key = selection.alias.value if selection.alias else selection.name.value
                    fields.setdefault(key, []).append(selection)
                elif isinstance(selection, InlineFragmentNode):
                    if self._applies(selection.type_condition, object_type):
                        for key, nodes in self.collect(
                            object_type, [selection.selection_set], seen
                        ).items():
                            fields.setdefault(key, []).extend(nodes)
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    fragment = self.fragments.get(name)
                    if fragment is None or name in seen:
                        continue
                    if self._applies(fragment.type_condition, object_type):
                        for key, nodes in self.collect(
                            object_type, [fragment.selection_set], seen | {name}
                        ).items():
                            fields.setdefault(key, []).extend(nodes)
        return fields

    def check_object(
        self,
        value: Any,
        object_type: GraphQLObjectType,
        selection_sets: list[SelectionSetNode],
        path: Path,
    ) -> list[str]:
        if not isinstance(value, dict):
            return [f"{_show(path)}: expected an object of {object_type.name}, got {value!r:.80}"]
        fields = self.collect(object_type, selection_sets)
        found: list[str] = []
        if set(value) != set(fields):
            extra = sorted(set(value) - set(fields))
            missing = sorted(set(fields) - set(value))
            found.append(
                f"{_show(path)} ({object_type.name}): keys not asked for {extra}, "
                f"asked for but missing {missing}"
            )
        for key, nodes in fields.items():
            if key not in value:
                continue
            name = nodes[0].name.value
            if name == "__typename":
                if value[key] != object_type.name:
                    found.append(f"{_show((*path, key))}: __typename {value[key]!r}")
                continue
            field = object_type.fields.get(name)
            if field is None:
                found.append(f"{_show((*path, key))}: {object_type.name} has no field {name}")
                continue
            sub = [node.selection_set for node in nodes if node.selection_set is not None]
            found.extend(self.check_value(value[key], field.type, sub, (*path, key)))
        return found

    def check_value(
        self,
        value: Any,
        type_: GraphQLOutputType,
        selection_sets: list[SelectionSetNode],
        path: Path,
    ) -> list[str]:
        if isinstance(type_, GraphQLNonNull):
            if value is None:
                return [f"{_show(path)}: null for the non-null {type_}"]
            return self.check_value(value, type_.of_type, selection_sets, path)
        if value is None:
            return []
        if isinstance(type_, GraphQLList):
            if not isinstance(value, list):
                return [f"{_show(path)}: expected a list, got {value!r:.80}"]
            found: list[str] = []
            for index, item in enumerate(value):
                found.extend(self.check_value(item, type_.of_type, selection_sets, (*path, index)))
            return found
        if isinstance(type_, GraphQLScalarType):
            return _check_scalar(value, type_, path)
        if isinstance(type_, GraphQLEnumType):
            if value not in type_.values:
                return [f"{_show(path)}: {value!r} is not a {type_.name}"]
            return []
        if isinstance(type_, GraphQLObjectType):
            return self.check_object(value, type_, selection_sets, path)
        if isinstance(type_, GraphQLAbstractType):
            candidates = self.schema.get_possible_types(type_)
            if isinstance(value, dict):
                typename = next(
                    (
                        value[key]
                        for key, nodes in self.collect(candidates[0], selection_sets).items()
                        if nodes[0].name.value == "__typename" and key in value
                    ),
                    None,
                )
                if typename is not None:
                    chosen = [t for t in candidates if t.name == typename]
                    if not chosen:
                        return [f"{_show(path)}: {typename!r} is not a possible {type_.name}"]
                    candidates = chosen
            attempts = [self.check_object(value, t, selection_sets, path) for t in candidates]
            if any(not attempt for attempt in attempts):
                return []
            best = min(attempts, key=len)
            return [f"{_show(path)}: fits no member of {type_.name}; e.g. {best[0]}"]
        return [f"{_show(path)}: unexpected type {type_}"]


def _check_scalar(value: Any, type_: GraphQLScalarType, path: Path) -> list[str]:
    name = type_.name
    ok = True
    if name == "Int":
        ok = isinstance(value, int) and not isinstance(value, bool) and -(2**31) <= value < 2**31
    elif name == "Float":
        ok = (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and math.isfinite(float(value))
        )
    elif name in ("String", "ID"):
        ok = isinstance(value, str)
    elif name == "Boolean":
        ok = isinstance(value, bool)
    elif name == "DateTime":
        try:
            datetime.fromisoformat(value)
        except (TypeError, ValueError):
            ok = False
    # JSON: any JSON value is fine.
    return [] if ok else [f"{_show(path)}: {value!r:.80} is not a valid {name}"]


def _show(path: Path) -> str:
    return ".".join(str(part) for part in path) or "<root>"


def problems(
    schema: GraphQLSchema,
    query: str,
    variables: dict[str, Any] | None,
    status: int,
    body: Any,
) -> list[str]:
    """Everything wrong with one response (empty when it is fine)."""
    found: list[str] = []
    if status >= 500:
        found.append(f"HTTP {status}")
    if not isinstance(body, dict):
        return [*found, f"the body is not a JSON object: {body!r:.200}"]
    if set(body) - {"data", "errors", "extensions"}:
        found.append(f"unexpected top-level keys {sorted(body)}")
    errors = body.get("errors")
    if errors is not None:
        if not isinstance(errors, list) or not errors:
            found.append(f"errors is not a non-empty list: {errors!r:.200}")
        else:
            for error in errors:
                if not isinstance(error, dict) or not isinstance(error.get("message"), str):
                    found.append(f"an error without a message: {error!r:.200}")
                elif error["message"] == MASKED:
                    found.append(f"a masked server fault at {error.get('path')}")
                elif "Cannot return null for non-nullable field" in error["message"]:
                    found.append(f"schema broken: {error['message']}")
    if "data" not in body and not errors:
        found.append("neither data nor errors")
    data = body.get("data")
    if data is None:
        if "data" in body and not errors:
            found.append("data is null without an error")
        return found
    try:
        document = graphql.parse(query)
    except graphql.GraphQLError as error:
        return [*found, f"data for a query that does not parse: {error.message}"]
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1:
        return [*found, "data for a document with other than one operation"]
    operation = operations[0]
    root = schema.get_root_type(operation.operation)
    if root is None:
        return [*found, f"data for an operation the schema has no root for: {operation.operation}"]
    checker = _Checker(schema, fragments, variables or {})
    found.extend(checker.check_object(data, root, [operation.selection_set], ()))
    return found
