"""Per-row sample weights reach every LightGBM fit of a retraining, and rows that all weigh
1 (a workflow reviewed once per item) train exactly as they did before weights existed."""

from __future__ import annotations

import dataclasses
from typing import Any

import lightgbm as lgb
import numpy as np
import pytest

from ml.classifier import TrainingExample, train_classifier
from ml.training_data import TrainingSet
from ml.worlds import generate_world, training_examples


@pytest.fixture
def fits(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, Any]]:
    """(rows, weights) of every training set lgb.train is given, in order."""
    seen: list[tuple[int, Any]] = []
    real = lgb.train

    def spy(params: dict[str, Any], train_set: lgb.Dataset, *args: Any, **kwargs: Any) -> Any:
        booster = real(params, train_set, *args, **kwargs)
        seen.append((train_set.num_data(), train_set.get_weight()))
        return booster

    monkeypatch.setattr(lgb, "train", spy)
    return seen


def _examples() -> list[TrainingExample]:
    examples = training_examples(generate_world(800, 9, "high_debt_retail"))
    return sorted(examples, key=lambda e: e.decided_at)


def _consensus_weighted(examples: list[TrainingExample]) -> list[TrainingExample]:
    """Every third row a consensus in doubt: 0.55, 0.7 or 0.85 in turn."""
    doubt = [0.55, 0.7, 0.85]
    return [
        dataclasses.replace(e, weight=doubt[(i // 3) % 3]) if i % 3 == 0 else e
        for i, e in enumerate(examples)
    ]


def test_consensus_rows_reach_every_fit_with_their_weights_in_time_order(fits):
    examples = _consensus_weighted(_examples())
    expected = np.array([e.weight for e in examples], dtype=np.float32)  # LightGBM's type

    trained = train_classifier(list(reversed(examples)), seed=3, num_threads=1)

    assert fits and all(weight is not None for _, weight in fits)
    served_rows, served_weight = fits[-1]
    assert served_rows == trained.trained_on == len(examples)
    np.testing.assert_array_equal(served_weight, expected)
    for rows, weight in fits[:-1]:  # the folds and the evaluated fit: the oldest rows
        np.testing.assert_array_equal(weight, expected[:rows])
    assert float(served_weight.min()) == pytest.approx(0.55)


def test_rows_that_all_weigh_one_train_exactly_as_without_weights(fits):
    examples = _examples()
    unweighted = TrainingSet()
    unweighted.add_rows(
        [e.payload for e in examples],
        [e.label for e in examples],
        [e.decided_at for e in examples],
        [e.proposed_action for e in examples],
    )

    with_ones = train_classifier(examples, seed=3, num_threads=1)
    without = train_classifier(unweighted, seed=3, num_threads=1)
    unweighted_fits = list(fits)
    weighted = train_classifier(_consensus_weighted(examples), seed=3, num_threads=1)

    assert unweighted_fits and all(weight is None for _, weight in unweighted_fits)
    assert with_ones.model_text == without.model_text
    assert with_ones.calibration == without.calibration
    assert weighted.model_text != without.model_text  # the weights do change the fit
