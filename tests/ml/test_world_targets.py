"""Issue 13's target for the served model on the loan worlds of ml.worlds: retrained once
on 3,000 reviewed decisions, it closes at least 92% of the gap between the upstream
proposals' accuracy and the Bayes rule's on 4,000 fresh cases, with an expected
calibration error of at most 0.03 (10 equal-width bins). Fixed seeds; the moderation
world's target is in test_moderation_world.py."""

from __future__ import annotations

import pytest

from ml.world_measures import measure_world
from ml.worlds import RULES, expected_accuracy, generate_world

SEED = 1


@pytest.mark.parametrize("rule", list(RULES))
def test_served_model_closes_the_gap_to_the_bayes_rule(rule: str) -> None:
    m = measure_world(rule, seed=SEED)
    assert (m.n_train, m.n_fresh) == (3000, 4000)
    assert m.upstream < m.served <= m.bayes
    assert m.gap_closed >= 0.92, m.row()
    assert m.ece <= 0.03, m.row()


def test_three_action_world_closes_the_gap_too() -> None:
    m = measure_world("young_healthcare", seed=SEED, three_actions=True)
    assert m.gap_closed >= 0.92, m.row()
    assert m.ece <= 0.03, m.row()


def test_expected_accuracy_is_the_generators() -> None:
    cases = generate_world(2000, 5, "high_debt_retail")
    assert expected_accuracy(cases, [c.bayes_action for c in cases]) == pytest.approx(0.97)
    wrong = ["approve" if c.bayes_action == "decline" else "decline" for c in cases]
    assert expected_accuracy(cases, wrong) == pytest.approx(0.03)
    # The drawn labels agree with the rule's action about 97% of the time.
    agree = sum(c.true_action == c.bayes_action for c in cases) / len(cases)
    assert agree == pytest.approx(0.97, abs=0.015)
    with pytest.raises(ValueError):
        expected_accuracy(cases, [])
