"""The moderation world (ml.moderation_world) measured as bench/learning_worlds.py does:
the served classifier against the upstream keyword filter and the Bayes rule.

The issue's target is at least 85% of the gap to the Bayes rule closed on fresh posts,
with ECE at most 0.03. Since the served model is tuned, refitted on every label and
calibrated by cross-fitted evidence, the ECE half is met (seed 13, the benchmark's: 0.009,
was 0.046) and asserted; the gap is not (79%, was 80%; BENCHMARKS.md, 6c) and is kept as a
strict xfail, so it fails the day it is met and must be turned into a plain assertion.
"""

from __future__ import annotations

import pytest

from ml.moderation_world import REMOVE, generate_moderation_world, upstream_action
from ml.world_measures import WorldMeasure, measure_moderation

SEED = 13


@pytest.fixture(scope="module")
def measured() -> WorldMeasure:
    return measure_moderation(seed=SEED)


def test_the_world_is_deterministic_and_knows_its_probabilities() -> None:
    first, again = generate_moderation_world(500, 3), generate_moderation_world(500, 3)
    assert [p.payload for p in first] == [p.payload for p in again]
    assert all(0.0 < p.p_remove < 1.0 for p in first)
    scams = [p for p in first if p.concern in ("money", "prize", "login")]
    assert scams and all(p.p_remove > 0.5 for p in scams)
    assert all(p.p_remove < 0.5 for p in first if p.concern is None)
    assert upstream_action("please DOUBLE YOUR btc", 0) == REMOVE


def test_served_model_beats_the_upstream_filter_and_nears_the_bayes_rule(
    measured: WorldMeasure,
) -> None:
    assert measured.upstream < measured.served < measured.bayes
    assert measured.gap_closed >= 0.7  # a floor below the 79% measured, not the target
    assert measured.ece <= 0.03  # the issue's calibration target


@pytest.mark.xfail(strict=True, reason="measured 79% of the gap (seed 13)")
def test_issue_target_gap(measured: WorldMeasure) -> None:
    assert measured.gap_closed >= 0.85
