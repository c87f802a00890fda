"""Input objects built from their GraphQL values by a plan made once per type.

Strawberry converts every field of every input object by resolving its type
annotation again each time; a batch of 500 RecommendationInput items spent
more time there than storing them. Through the `from_input` hook of each input
type's definition (Strawberry's own extension point for this), leaves and lists
of leaves are passed through as Strawberry would pass them, and everything else
(nested inputs, lists of them) still goes through Strawberry's own conversion.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING
from enum import Enum
from typing import Any

import strawberry
from graphql import GraphQLInputObjectType
from strawberry.relay import GlobalID
from strawberry.types.arguments import InputContext, _is_leaf_type, convert_argument
from strawberry.types.base import (
    StrawberryList,
    StrawberryMaybe,
    StrawberryObjectDefinition,
    StrawberryOptional,
    get_object_definition,
)


class Kind(Enum):
    LEAF = "leaf"  # scalars and enums: graphql-core has coerced them already
    LEAF_LIST = "leaf list"  # copied, as Strawberry copies them
    CONVERT = "convert"  # anything else: Strawberry's conversion


Plan = tuple[dict[str, Any], list[tuple[str, str, Kind, Any]]]
_plans: dict[type, Plan] = {}


def _is_plain_leaf(type_: Any, context: InputContext) -> bool:
    if isinstance(type_, StrawberryMaybe) or type_ is GlobalID:
        return False
    if isinstance(type_, StrawberryOptional):
        type_ = type_.of_type
    return type_ is not GlobalID and _is_leaf_type(type_, context.scalar_registry)


def _plan(cls: type, definition: StrawberryObjectDefinition, context: InputContext) -> Plan:
    defaults: dict[str, Any] = {}
    steps = []
    for field in definition.fields:
        if field.default_value is MISSING and field.default_factory is MISSING:
            defaults[field.python_name] = None  # as Strawberry does for input types
        type_ = field.resolve_type(type_definition=definition)
        inner = type_.of_type if type(type_) is StrawberryOptional else type_
        if _is_plain_leaf(type_, context):
            kind = Kind.LEAF
        elif isinstance(inner, StrawberryList) and _is_plain_leaf(inner.of_type, context):
            kind = Kind.LEAF_LIST
        else:
            kind = Kind.CONVERT
        steps.append(
            (context.config.name_converter.from_field(field), field.python_name, kind, type_)
        )
    return defaults, steps


def build_input(cls: type, value: Mapping[str, Any], context: InputContext) -> Any:
    """`from_input` for every input type of the schema."""
    plan = _plans.get(cls)
    if plan is None:
        definition = get_object_definition(cls, strict=True)
        plan = _plans[cls] = _plan(cls, definition, context)
    defaults, steps = plan
    kwargs = dict(defaults)
    for graphql_name, python_name, kind, type_ in steps:
        if graphql_name not in value:
            continue
        item = value[graphql_name]
        if item is None or kind is Kind.LEAF:
            kwargs[python_name] = item
        elif kind is Kind.LEAF_LIST:
            kwargs[python_name] = list(item)
        else:
            kwargs[python_name] = convert_argument(
                item,
                type_,
                context.scalar_registry,
                context.config,
                context.info,
                path=(*context.path, graphql_name),
            )
    return cls(**kwargs)


def build_inputs_with_plans(schema: strawberry.Schema) -> None:
    """Install `build_input` on every input type of `schema` that has no builder of its own."""
    for graphql_type in schema._schema.type_map.values():
        if not isinstance(graphql_type, GraphQLInputObjectType):
            continue
        definition = (graphql_type.extensions or {}).get("strawberry-definition")
        if isinstance(definition, StrawberryObjectDefinition) and definition.from_input is None:
            definition.from_input = build_input
