"""Input objects built by plan equal what Strawberry's own conversion builds."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLInputObjectType
from strawberry.types.arguments import convert_argument

from api.schema import build_schema
from api.schema.inputs import build_input
from api.settings import Settings

SCHEMA = build_schema(Settings())

VALUES: dict[str, list[dict[str, Any]]] = {
    "RecommendationInput": [
        {"payload": {"a": [1, {"b": None}]}, "proposedAction": "A", "confidence": 0.5},
        {
            "payload": "text",
            "proposedAction": "B",
            "confidence": 1.0,
            "externalId": None,
            "subject": "s",
            "stakes": 3.5,
            "explanation": [{"feature": "age", "value": "30", "contribution": -0.2}],
        },
    ],
    "WorkflowInput": [
        {"key": "k", "name": "n", "kind": "DRAFT", "reviewerRole": "EXPERT", "actions": ["A"]},
        {
            "key": "k",
            "name": "n",
            "kind": "CLASSIFICATION",
            "reviewerRole": "VERIFIER",
            "actions": ["A", "B"],
            "scoreLabel": None,
            "policy": {"autoApproveAt": 0.9, "analystAt": 0.6, "belowFloor": "REJECT"},
        },
    ],
}


def definition_of(name: str) -> Any:
    graphql_type = SCHEMA._schema.type_map[name]
    assert isinstance(graphql_type, GraphQLInputObjectType)
    return graphql_type.extensions["strawberry-definition"]


def coerced(name: str, value: dict[str, Any]) -> Any:
    """The value as graphql-core hands it to Strawberry (enums as their Python values)."""
    from graphql import Undefined, coerce_input_value

    result = coerce_input_value(value, SCHEMA._schema.type_map[name])
    assert result is not Undefined
    return result


@pytest.mark.parametrize(
    ("name", "value"), [(n, v) for n, values in VALUES.items() for v in values]
)
def test_an_input_built_by_plan_equals_strawberrys_own(name, value, monkeypatch):
    definition = definition_of(name)
    assert definition.from_input is build_input
    registry, config = SCHEMA.schema_converter.scalar_registry, SCHEMA.config
    planned = convert_argument(coerced(name, value), definition.origin, registry, config)
    monkeypatch.setattr(definition, "from_input", None)
    own = convert_argument(coerced(name, value), definition.origin, registry, config)
    assert planned == own
