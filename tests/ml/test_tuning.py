"""The calibration chosen by evidence and the time-ordered folds of the tuning."""

from __future__ import annotations

import json

import numpy as np

from ml.calibration import apply_calibration, choose_calibration, log_loss
from ml.tuning import FOLD_EDGES, Candidate, folds


def _draw(n: int, seed: int, squash: float) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities of class 1 and labels drawn from p ** (1 / squash) renormalised:
    squash 1 is a calibrated model, above 1 an overconfident one."""
    rng = np.random.default_rng(seed)
    p1 = rng.uniform(0.02, 0.98, n)
    a, b = p1 ** (1 / squash), (1 - p1) ** (1 / squash)
    labels = (rng.uniform(0, 1, n) < a / (a + b)).astype(int)
    return np.column_stack([1 - p1, p1]), labels


def test_a_calibrated_model_keeps_its_probabilities() -> None:
    probs, labels = _draw(3000, 1, 1.0)
    chosen = json.loads(json.dumps(choose_calibration(probs, labels, 2)))
    assert set(chosen["chosen_by"]) == {"identity", "temperature", "isotonic"}
    assert chosen["method"] == min(chosen["chosen_by"], key=chosen["chosen_by"].__getitem__)
    assert chosen["method"] in ("identity", "temperature")
    assert chosen["chosen_by"]["isotonic"] > chosen["chosen_by"]["identity"]


def test_an_overconfident_model_is_tempered_and_better_on_fresh_labels() -> None:
    probs, labels = _draw(3000, 2, 2.5)
    chosen = choose_calibration(probs, labels, 2)
    assert chosen["method"] in ("temperature", "isotonic")
    fresh, fresh_labels = _draw(3000, 3, 2.5)
    calibrated = apply_calibration(chosen, fresh)
    np.testing.assert_allclose(calibrated.sum(1), 1.0)
    assert log_loss(calibrated, fresh_labels) < log_loss(fresh, fresh_labels) - 0.01


def test_too_few_predictions_keep_the_identity() -> None:
    probs, labels = _draw(60, 4, 2.5)
    chosen = choose_calibration(probs, labels, 2)
    assert chosen["method"] == "identity"
    assert "at least 100" in chosen["reason"]


def test_folds_predict_the_future_from_the_past() -> None:
    cuts = folds(2400)
    assert len(cuts) == len(FOLD_EDGES) - 1
    for stop, lo, hi in cuts:
        assert stop == lo < hi  # train on [0, stop), validate on the rows just after
    assert cuts[-1][2] == 2400
    assert [lo for _, lo, _ in cuts] == sorted(lo for _, lo, _ in cuts)


def test_rounds_scale_with_the_rows() -> None:
    candidate = Candidate({}, 0.1, best_rounds=[50, 70], fold_rows=[1000, 1400], oof=np.empty(0))
    assert candidate.rounds_for(1000) == 50
    assert candidate.rounds_for(2000) == 100
    assert candidate.rounds_for(1) == 1
