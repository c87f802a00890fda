"""EscalationPolicy.validate and EscalationPolicy.merged."""

from __future__ import annotations

import math

import pytest

from domain.enums import FloorAction
from domain.errors import InvalidInputError
from domain.policy import MAX_NOTE_LENGTH, EscalationPolicy
from tests.domain.builders import create_policy


def refusal(policy: EscalationPolicy) -> InvalidInputError:
    with pytest.raises(InvalidInputError) as raised:
        policy.validate()
    return raised.value


# ------------------------------------------------------------------ validate: thresholds


def test_the_default_policy_is_valid():
    EscalationPolicy().validate()


def test_thresholds_at_the_ends_of_the_unit_interval_are_valid():
    create_policy(auto_approve_at=1.0, analyst_at=0.0, senior_at=0.0).validate()


def test_equal_thresholds_are_valid():
    create_policy(auto_approve_at=0.8, analyst_at=0.8, senior_at=0.8).validate()


@pytest.mark.parametrize("value", [-0.01, 1.01, math.nan, math.inf, -math.inf])
@pytest.mark.parametrize(
    ("name", "camel"),
    [
        ("auto_approve_at", "autoApproveAt"),
        ("analyst_at", "analystAt"),
        ("senior_at", "seniorAt"),
    ],
)
def test_a_threshold_outside_zero_to_one_is_refused_naming_the_field(name, camel, value):
    # Keep the other thresholds out of the way so that only the range rule can fire.
    others = {"auto_approve_at": 1.0, "analyst_at": 0.5, "senior_at": 0.0}
    others[name] = value

    error = refusal(create_policy(**others))

    assert error.field == camel


def test_a_senior_threshold_above_the_analyst_threshold_is_refused():
    error = refusal(create_policy(auto_approve_at=0.9, analyst_at=0.6, senior_at=0.61))

    assert error.field == "seniorAt"


def test_an_analyst_threshold_above_the_auto_approve_threshold_is_refused():
    error = refusal(create_policy(auto_approve_at=0.8, analyst_at=0.81, senior_at=0.5))

    assert error.field == "analystAt"


# ------------------------------------------------------------------ validate: rates, SLAs, caps


@pytest.mark.parametrize("value", [-0.1, 1.5, math.nan, math.inf])
@pytest.mark.parametrize(
    ("name", "camel"),
    [("audit_sample_rate", "auditSampleRate"), ("canary_rate", "canaryRate")],
)
def test_a_rate_outside_zero_to_one_is_refused_naming_the_field(name, camel, value):
    error = refusal(create_policy(**{name: value}))

    assert error.field == camel


@pytest.mark.parametrize("name", ["audit_sample_rate", "canary_rate"])
@pytest.mark.parametrize("value", [0.0, 0.25, 1.0])
def test_a_rate_within_zero_to_one_is_valid(name, value):
    create_policy(**{name: value}).validate()


@pytest.mark.parametrize(
    ("name", "camel"),
    [
        ("analyst_sla_seconds", "analystSlaSeconds"),
        ("senior_sla_seconds", "seniorSlaSeconds"),
        ("min_dwell_ms", "minDwellMs"),
        ("undo_seconds", "undoSeconds"),
    ],
)
def test_a_negative_duration_is_refused_naming_the_field(name, camel):
    error = refusal(create_policy(**{name: -1}))

    assert error.field == camel


@pytest.mark.parametrize(
    "name", ["analyst_sla_seconds", "senior_sla_seconds", "min_dwell_ms", "undo_seconds"]
)
def test_a_zero_duration_is_valid(name):
    create_policy(**{name: 0}).validate()


@pytest.mark.parametrize("value", [0, -5])
def test_a_daily_cap_below_one_is_refused(value):
    error = refusal(create_policy(max_daily_decisions_per_reviewer=value))

    assert error.field == "maxDailyDecisionsPerReviewer"


@pytest.mark.parametrize("value", [None, 1, 500])
def test_a_daily_cap_of_one_or_more_or_none_is_valid(value):
    create_policy(max_daily_decisions_per_reviewer=value).validate()


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_a_high_stakes_mark_that_is_not_finite_is_refused(value):
    error = refusal(create_policy(high_stakes_at=value))

    assert error.field == "highStakesAt"


@pytest.mark.parametrize("value", [None, 0.0, 10_000.0])
def test_a_finite_or_missing_high_stakes_mark_is_valid(value):
    create_policy(high_stakes_at=value).validate()


def test_a_note_of_the_maximum_length_is_valid():
    create_policy(note="n" * MAX_NOTE_LENGTH).validate()


def test_a_note_one_character_too_long_is_refused():
    error = refusal(create_policy(note="n" * (MAX_NOTE_LENGTH + 1)))

    assert error.field == "note"


# ------------------------------------------------------------------ merged


def test_merging_keeps_the_fields_left_out():
    current = create_policy(
        version=3,
        auto_approve_at=0.95,
        analyst_at=0.8,
        below_floor=FloorAction.REQUEST_MORE_DATA,
        high_stakes_at=5_000,
        audit_sample_rate=0.1,
        max_daily_decisions_per_reviewer=200,
    )

    merged = current.merged({"senior_at": 0.4})

    assert merged.senior_at == 0.4
    assert merged.version == 3
    assert merged.auto_approve_at == 0.95
    assert merged.analyst_at == 0.8
    assert merged.below_floor is FloorAction.REQUEST_MORE_DATA
    assert merged.high_stakes_at == 5_000
    assert merged.audit_sample_rate == 0.1
    assert merged.max_daily_decisions_per_reviewer == 200


def test_merging_leaves_the_original_policy_untouched():
    current = create_policy(auto_approve_at=0.95)

    current.merged({"auto_approve_at": 0.85})

    assert current.auto_approve_at == 0.95


@pytest.mark.parametrize(
    ("name", "camel"),
    [
        ("auto_approve_at", "autoApproveAt"),
        ("analyst_at", "analystAt"),
        ("senior_at", "seniorAt"),
        ("below_floor", "belowFloor"),
        ("analyst_sla_seconds", "analystSlaSeconds"),
        ("senior_sla_seconds", "seniorSlaSeconds"),
        ("audit_sample_rate", "auditSampleRate"),
        ("min_dwell_ms", "minDwellMs"),
        ("canary_rate", "canaryRate"),
        ("undo_seconds", "undoSeconds"),
    ],
)
def test_merging_refuses_an_explicit_null_for_a_field_that_is_never_null(name, camel):
    with pytest.raises(InvalidInputError) as raised:
        EscalationPolicy().merged({name: None})

    assert raised.value.field == camel


@pytest.mark.parametrize("name", ["high_stakes_at", "max_daily_decisions_per_reviewer"])
def test_merging_an_explicit_null_clears_a_nullable_field(name):
    current = create_policy(high_stakes_at=5_000, max_daily_decisions_per_reviewer=100)

    merged = current.merged({name: None})

    assert getattr(merged, name) is None
    merged.validate()


def test_merging_an_explicit_null_note_is_allowed():
    merged = create_policy(note="old").merged({"note": None})

    assert merged.note is None


def test_merging_without_a_note_drops_the_previous_note():
    merged = create_policy(note="raised the floor after the March incident").merged(
        {"senior_at": 0.45}
    )

    assert merged.note is None


def test_merging_with_a_note_keeps_the_new_note():
    merged = create_policy(note="old").merged({"senior_at": 0.45, "note": "new"})

    assert merged.note == "new"


def test_merging_an_unknown_field_is_refused_naming_it():
    with pytest.raises(InvalidInputError) as raised:
        EscalationPolicy().merged({"auto_reject_at": 0.1})

    assert raised.value.field == "autoRejectAt"


def test_merging_does_not_validate_but_the_result_can_be_validated():
    merged = EscalationPolicy().merged({"auto_approve_at": 1.5})

    assert merged.auto_approve_at == 1.5
    with pytest.raises(InvalidInputError) as raised:
        merged.validate()
    assert raised.value.field == "autoApproveAt"


def test_a_merge_that_breaks_the_threshold_order_is_caught_by_validate():
    merged = EscalationPolicy().merged({"senior_at": 0.75})

    with pytest.raises(InvalidInputError) as raised:
        merged.validate()
    assert raised.value.field == "seniorAt"
