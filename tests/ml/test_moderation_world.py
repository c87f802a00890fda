"""The moderation world (ml.moderation_world) measured as bench/learning_worlds.py does:
the served classifier against the upstream keyword filter and the Bayes rule.

The issue's target is at least 85% of the gap to the Bayes rule closed on fresh posts,
with ECE at most 0.03, asserted on seed 13 (the benchmark's). The ECE half was met once
the served model was tuned, refitted on every label and calibrated by cross-fitted
evidence; the gap (79% then) once the text field's linear model, fitted out of fold, gave
the trees its scores to combine with the account's age (ml.text_stacking): 88% on seed 13,
88-95% on seeds 13-18 (BENCHMARKS.md, 6c and 6d).
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
    assert measured.ece <= 0.03  # the calibration target


def test_the_served_model_closes_85_percent_of_the_gap(measured: WorldMeasure) -> None:
    assert measured.gap_closed >= 0.85, f"{measured.gap_closed:.1%} of the gap closed"
