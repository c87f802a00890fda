"""Limits on what callers may send: domain/validation.py."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from domain import validation
from domain.errors import InvalidInputError


def nested_objects(levels: int) -> dict[str, Any]:
    """An object `levels` containers deep: {"k": {"k": ... {} }}."""
    value: dict[str, Any] = {}
    for _ in range(levels - 1):
        value = {"k": value}
    return value


def nested_lists(levels: int) -> dict[str, Any]:
    """An object holding lists, `levels` containers deep in all."""
    value: list[Any] = []
    for _ in range(levels - 2):
        value = [value]
    return {"k": value}


def refused_field(call) -> str | None:
    with pytest.raises(InvalidInputError) as raised:
        call()
    return raised.value.field


# ------------------------------------------------------------------ text


def test_text_within_the_limit_is_returned_unchanged():
    assert validation.text("  hello  ", "reason", 10) == "  hello  "


def test_text_of_exactly_the_limit_is_accepted():
    assert validation.text("x" * 200, "subject", 200) == "x" * 200


def test_text_one_character_over_the_limit_is_refused_naming_the_field():
    assert refused_field(lambda: validation.text("x" * 201, "subject", 200)) == "subject"


def test_the_limit_counts_characters_not_bytes():
    assert validation.text("é" * 10, "name", 10) == "é" * 10


def test_text_with_a_nul_character_is_refused():
    assert refused_field(lambda: validation.text("abc\x00def", "reason", 100)) == "reason"


def test_missing_optional_text_is_none():
    assert validation.text(None, "subject", 100) is None


def test_missing_required_text_is_refused():
    assert refused_field(lambda: validation.text(None, "name", 100, required=True)) == "name"


@pytest.mark.parametrize("blank", ["", "   ", "\t\n"])
def test_blank_required_text_is_refused(blank):
    assert refused_field(lambda: validation.text(blank, "name", 100, required=True)) == "name"


def test_blank_optional_text_is_accepted():
    assert validation.text("", "subject", 100) == ""


def test_the_limits_are_the_documented_ones():
    assert validation.MAX_SHORT_TEXT == 200
    assert validation.MAX_SUBJECT == 500
    assert validation.MAX_REASON == 5_000
    assert validation.MAX_DRAFT == 100_000
    assert validation.MAX_PAYLOAD_BYTES == 256 * 1024
    assert validation.MAX_JSON_DEPTH == 32


# ------------------------------------------------------------------ finite


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_a_number_that_is_not_finite_is_refused(value):
    assert refused_field(lambda: validation.finite(value, "stakes")) == "stakes"


@pytest.mark.parametrize("value", [True, False, "0.5", [0.5]])
def test_a_value_that_is_not_a_number_is_refused(value):
    assert refused_field(lambda: validation.finite(value, "stakes")) == "stakes"


def test_an_integer_is_returned_as_a_float():
    result = validation.finite(3, "stakes")

    assert result == 3.0
    assert isinstance(result, float)


def test_a_missing_number_is_none():
    assert validation.finite(None, "stakes") is None


@pytest.mark.parametrize("value", [-0.0001, 1.0001, 2])
def test_a_unit_number_outside_zero_to_one_is_refused(value):
    assert refused_field(lambda: validation.finite(value, "confidence", unit=True)) == (
        "confidence"
    )


@pytest.mark.parametrize("value", [0, 0.0, 0.5, 1, 1.0])
def test_a_unit_number_within_zero_to_one_is_accepted(value):
    assert validation.finite(value, "confidence", unit=True) == float(value)


def test_a_number_outside_zero_to_one_is_fine_when_no_unit_is_asked():
    assert validation.finite(-250.5, "stakes") == -250.5


# ------------------------------------------------------------------ json_object


def test_a_json_object_is_returned_unchanged():
    payload = {"amount": 120, "lines": [{"sku": "A1", "qty": 2}], "note": None}

    assert validation.json_object(payload, "payload") is payload


def test_an_empty_object_is_accepted():
    assert validation.json_object({}, "payload") == {}


@pytest.mark.parametrize("value", [[], [{"a": 1}], "text", 42, 4.2, True, None])
def test_anything_but_an_object_is_refused(value):
    assert refused_field(lambda: validation.json_object(value, "payload")) == "payload"


def test_an_object_nested_exactly_32_levels_is_accepted():
    validation.json_object(nested_objects(32), "payload")


def test_an_object_nested_33_levels_is_refused():
    assert refused_field(lambda: validation.json_object(nested_objects(33), "payload")) == (
        "payload"
    )


def test_lists_count_towards_the_nesting_depth():
    validation.json_object(nested_lists(32), "payload")
    assert refused_field(lambda: validation.json_object(nested_lists(33), "payload")) == "payload"


def test_a_hostile_depth_is_refused_without_exhausting_the_stack():
    assert refused_field(lambda: validation.json_object(nested_objects(5_000), "payload")) == (
        "payload"
    )


def test_a_payload_of_exactly_the_size_limit_is_accepted():
    overhead = len(json.dumps({"k": ""}).encode())
    payload = {"k": "x" * (validation.MAX_PAYLOAD_BYTES - overhead)}
    assert len(json.dumps(payload).encode()) == validation.MAX_PAYLOAD_BYTES

    validation.json_object(payload, "payload")


def test_a_payload_one_byte_over_the_size_limit_is_refused():
    overhead = len(json.dumps({"k": ""}).encode())
    payload = {"k": "x" * (validation.MAX_PAYLOAD_BYTES - overhead + 1)}

    assert refused_field(lambda: validation.json_object(payload, "payload")) == "payload"


@pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf])
def test_a_payload_holding_a_number_that_is_not_finite_is_refused(number):
    payload = {"scores": [0.1, {"deep": number}]}

    assert refused_field(lambda: validation.json_object(payload, "payload")) == "payload"


def test_a_payload_holding_a_value_json_cannot_write_is_refused():
    assert refused_field(lambda: validation.json_object({"when": object()}, "payload")) == (
        "payload"
    )


def test_the_refusal_names_the_field_it_was_given():
    assert refused_field(lambda: validation.json_object([], "explanation.value")) == (
        "explanation.value"
    )


# ------------------------------------------------------------------ tags


def test_no_tags_is_an_empty_list():
    assert validation.tags(None, "reasonTags") == []
    assert validation.tags([], "reasonTags") == []


def test_tags_are_stripped():
    assert validation.tags(["  fraud ", "late"], "reasonTags") == ["fraud", "late"]


def test_twenty_tags_are_accepted_and_twenty_one_refused():
    assert len(validation.tags([f"t{i}" for i in range(20)], "reasonTags")) == 20
    assert (
        refused_field(lambda: validation.tags([f"t{i}" for i in range(21)], "reasonTags"))
        == "reasonTags"
    )


@pytest.mark.parametrize("bad", ["", "   ", "x" * 101, "nul\x00"])
def test_a_blank_long_or_nul_tag_is_refused(bad):
    assert refused_field(lambda: validation.tags(["ok", bad], "reasonTags")) == "reasonTags"
