"""Drift alarms on generated worlds: a rule that changes halfway raises one alarm naming
its tier, a stable world raises none, and the false-alarm rate is measured."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from domain.drift import (
    DEFAULT_FALSE_ALARM_RATE,
    MIN_WINDOW,
    DriftAlarm,
    ReviewedProposal,
    TierWindows,
    check_drift,
    fisher_fall_p,
    p_bucket,
    split_windows,
    welch_p,
)
from domain.enums import Tier
from domain.events import ModelEvent
from domain.learning import ModelEventKind
from domain.messages import MessageError, decode_model_event, encode_model_event

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 12, 20, tzinfo=UTC)
WINDOW = 200
DECISIONS = 1600  # over both tiers: about 550 analyst and 250 senior per half
CHECK_EVERY = 40  # decisions between two runs of the monitor


@dataclass(frozen=True)
class Decided:
    tier: Tier
    proposal: ReviewedProposal


def world(seed: int, change_at: int | None = None) -> Iterator[Decided]:
    """Decisions on a model's proposals, 30 minutes apart. Confidences are calibrated:
    people agree with a proposal as often as the model's confidence says. From
    `change_at` on, the world's rule changes for young companies (30% of the cases):
    people now decline most of what the model proposes for them in the analyst tier."""
    rng = random.Random(seed)
    for n in range(DECISIONS):
        confidence = rng.uniform(0.5, 0.9)
        tier = Tier.ANALYST_REVIEW if confidence >= 0.7 else Tier.SENIOR_REVIEW
        young = rng.random() < 0.3
        changed = change_at is not None and n >= change_at
        p_agree = 0.1 if changed and young and tier is Tier.ANALYST_REVIEW else confidence
        at = START + timedelta(minutes=30 * n)
        yield Decided(tier, ReviewedProposal(f"d{n}", rng.random() < p_agree, confidence, at))


def windows_of(decided: list[Decided], window: int = WINDOW) -> dict[Tier, TierWindows]:
    """What the store reads: per tier, the first and the latest `window` decisions."""
    found = {}
    for tier in (Tier.ANALYST_REVIEW, Tier.SENIOR_REVIEW):
        mine = [d.proposal for d in decided if d.tier is tier]
        split = split_windows(mine[:window], mine[-window:], window)
        if split is not None:
            found[tier] = split
    return found


def monitor(stream: Iterator[Decided]) -> list[DriftAlarm]:
    """Run the check every CHECK_EVERY decisions as they arrive, keeping the episodes
    open between runs as the store does; every alarm raised."""
    decided: list[Decided] = []
    open_alarms: list[DriftAlarm] = []
    raised: list[DriftAlarm] = []
    for n, d in enumerate(stream, start=1):
        decided.append(d)
        if n % CHECK_EVERY:
            continue
        check = check_drift("wf", "mdl", windows_of(decided), open_alarms, NOW)
        ended = {a.id for a in check.cleared}
        open_alarms = [a for a in open_alarms if a.id not in ended] + check.raised
        raised += check.raised
    return raised


def test_a_rule_that_changes_halfway_raises_one_alarm_naming_its_tier():
    raised = monitor(world(seed=7, change_at=DECISIONS // 2))
    assert len(raised) == 1, [a.message for a in raised]
    alarm = raised[0]
    assert alarm.tier is Tier.ANALYST_REVIEW
    assert alarm.message.startswith("agreement on ANALYST_REVIEW fell from ")
    assert " since " in alarm.message and "(p < 0.0" in alarm.message
    assert alarm.raised_at == NOW and alarm.cleared_at is None


def test_a_stable_world_raises_none():
    assert monitor(world(seed=7)) == []


def test_the_false_alarm_rate_of_one_check_on_a_stable_world_is_at_most_the_stated_rate():
    repetitions = 500
    alarms = 0
    for seed in range(repetitions):
        decided = list(world(seed=1000 + seed))
        alarms += bool(check_drift("wf", "mdl", windows_of(decided), [], NOW).raised)
    rate = alarms / repetitions
    slack = 0.015  # two standard errors of a 1% rate over 500 repetitions, rounded up
    assert rate <= DEFAULT_FALSE_ALARM_RATE + slack, (
        f"observed false-alarm rate {rate:.3f} ({alarms}/{repetitions}), "
        f"stated {DEFAULT_FALSE_ALARM_RATE}"
    )


def test_an_episode_ends_when_the_statistics_return_and_a_new_one_may_then_open():
    rng = random.Random(3)

    def decisions(start: int, count: int, p_agree: float) -> list[ReviewedProposal]:
        return [
            ReviewedProposal(
                f"d{start + i}", rng.random() < p_agree, 0.8, START + timedelta(hours=start + i)
            )
            for i in range(count)
        ]

    baseline = decisions(0, 100, 0.8)
    fell = TierWindows(baseline, decisions(100, 100, 0.4))
    back = TierWindows(baseline, decisions(200, 100, 0.8))
    tier = Tier.SENIOR_REVIEW

    first = check_drift("wf", "m", {tier: fell}, [], NOW)
    assert [a.tier for a in first.raised] == [tier]
    again = check_drift("wf", "m", {tier: fell}, first.raised, NOW)
    assert (again.raised, again.cleared) == ([], [])
    ended = check_drift("wf", "m", {tier: back}, first.raised, NOW)
    assert ended.raised == [] and [a.id for a in ended.cleared] == [first.raised[0].id]
    assert ended.cleared[0].cleared_at == NOW
    assert len(check_drift("wf", "m", {tier: fell}, [], NOW).raised) == 1


def test_the_episode_of_a_model_no_longer_served_ends():
    old = DriftAlarm.raise_("wf", "old", Tier.ANALYST_REVIEW, "agreement fell", START)
    check = check_drift("wf", "new", {}, [old], NOW)
    assert [a.id for a in check.cleared] == [old.id] and check.raised == []


def test_calibration_moving_without_agreement_moving_is_named():
    """The model grows sure of itself (0.6 -> 0.95) while people agree as often as before."""
    rng = random.Random(5)
    baseline = [
        ReviewedProposal(f"b{i}", rng.random() < 0.6, 0.6, START + timedelta(hours=i))
        for i in range(150)
    ]
    recent = [
        ReviewedProposal(f"r{i}", rng.random() < 0.6, 0.95, NOW - timedelta(hours=150 - i))
        for i in range(150)
    ]
    check = check_drift("wf", "m", {Tier.ANALYST_REVIEW: TierWindows(baseline, recent)}, [], NOW)
    [alarm] = check.raised
    assert alarm.message.startswith("calibration on ANALYST_REVIEW moved since 13 December")
    assert "less often than the model's confidence (95% on average)" in alarm.message


def test_windows_split_in_halves_until_there_are_two_full_windows():
    proposals = [
        ReviewedProposal(f"d{i}", True, 0.8, START + timedelta(hours=i)) for i in range(90)
    ]
    split = split_windows(proposals[:60], proposals[-60:], 60)
    assert split is not None
    assert [p.decision_id for p in split.baseline] == [f"d{i}" for i in range(45)]
    assert [p.decision_id for p in split.recent] == [f"d{i}" for i in range(45, 90)]
    full = split_windows(proposals[:40], proposals[-40:], 40)
    assert full is not None and full.baseline[-1].decision_id == "d39"
    assert full.recent[0].decision_id == "d50"
    assert split_windows(proposals[:30], proposals[: 2 * MIN_WINDOW - 1][-30:], 30) is None


def test_the_tests_p_values():
    assert fisher_fall_p(19, 20, 4, 20) == pytest.approx(1.1049e-06, rel=1e-4)  # scipy's value
    assert fisher_fall_p(50, 100, 50, 100) == pytest.approx(0.5562, rel=1e-3)
    assert fisher_fall_p(30, 30, 30, 30) == 1.0
    assert welch_p([0.1, -0.1] * 20, [0.1, -0.1] * 20) == pytest.approx(1.0)
    assert welch_p([0.0] * 30, [0.0] * 30) == 1.0 and welch_p([0.0] * 30, [0.2] * 30) == 0.0
    assert [p_bucket(p) for p in (0.0004, 0.004, 0.04, 0.3)] == [
        "p < 0.001",
        "p < 0.01",
        "p < 0.05",
        "p = 0.3",
    ]


def test_a_false_alarm_rate_outside_zero_to_one_is_refused():
    with pytest.raises(ValueError, match="false-alarm rate"):
        check_drift("wf", "m", {}, [], NOW, false_alarm_rate=1.5)


def test_a_drift_event_travels_with_its_message_and_older_messages_still_decode():
    event = ModelEvent(ModelEventKind.DRIFT, "mdl_1", "wf_1", "agreement fell", "drf_1")
    data = json.loads(json.dumps(encode_model_event(event)))
    assert decode_model_event(data) == event
    assert event.id == "mdl_1:DRIFT:drf_1"  # each episode is its own event
    older = {k: v for k, v in data.items() if k not in ("message", "episode")}
    assert decode_model_event({**older, "kind": "PROMOTED"}) == ModelEvent(
        ModelEventKind.PROMOTED, "mdl_1", "wf_1"
    )
    with pytest.raises(MessageError):
        decode_model_event({**data, "message": 42})
