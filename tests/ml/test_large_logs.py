"""Tuning for small data on a large log: the search sees only the newest TUNE_ROWS labels
before the holdout, and the evaluated model's rounds come from early stopping on the
validation slice at full size, scaled for the served refit (ml.tuning, ml.model_fits).

TUNE_ROWS is lowered here so that a log of a few thousand decisions counts as large.
"""

from __future__ import annotations

from typing import Any

import lightgbm as lgb
import numpy as np
import pytest

import ml.classifier
import ml.tuning
from ml.classifier import lightgbm_params, prepare, train_classifier
from ml.tuning import tune
from ml.worlds import generate_world, training_examples

N = 6000
SMALL_TUNE_ROWS = 1500


def create_examples(seed: int = 3, rule: str = "young_healthcare") -> list[Any]:
    return training_examples(generate_world(N, seed, rule))


def create_dataset(rows: Any, labels: np.ndarray, reference: lgb.Dataset | None) -> lgb.Dataset:
    return lgb.Dataset(
        rows,
        label=labels,
        reference=reference,
        params={"feature_pre_filter": False},
        free_raw_data=False,
    )


@pytest.fixture
def small_tune_rows(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(ml.tuning, "TUNE_ROWS", SMALL_TUNE_ROWS)
    monkeypatch.setattr(ml.classifier, "TUNE_ROWS", SMALL_TUNE_ROWS)
    return SMALL_TUNE_ROWS


def test_tuning_sees_only_the_newest_rows(small_tune_rows: int) -> None:
    rng = np.random.default_rng(5)
    X = rng.normal(size=(4000, 4))
    y = (X[:, 0] + rng.normal(scale=0.5, size=4000) > 0).astype(np.int32)
    base = lightgbm_params(small_tune_rows, 2, num_threads=1)
    tuning = tune(X, y, base, create_dataset, lambda fraction, message: None)
    assert tuning.window == slice(4000 - small_tune_rows, 4000)
    assert tuning.window.start < tuning.oof_start < 4000
    assert len(tuning.best.oof) == 4000 - tuning.oof_start
    assert max(tuning.best.fold_rows) < small_tune_rows


def test_a_small_log_is_tuned_on_every_label_before_the_holdout() -> None:
    rng = np.random.default_rng(6)
    X = rng.normal(size=(2400, 3))
    y = (X[:, 1] > 0).astype(np.int32)
    tuning = tune(X, y, lightgbm_params(2400, 2, num_threads=1), create_dataset, print)
    assert tuning.window == slice(0, 2400)


def test_a_large_logs_evaluated_model_stops_early_on_the_validation_slice(
    small_tune_rows: int,
) -> None:
    examples = create_examples()
    data = prepare(examples)
    trained = train_classifier(examples, seed=3, num_threads=1)
    m = trained.metrics
    # Fitted on the labels before the validation slice; the served model on all of them,
    # for early stopping's rounds scaled by the rows.
    assert m.evaluated_on == trained.evaluated_on == data.validation.start
    assert trained.trained_on == N
    assert trained.best_iteration == trained.rounds_run
    # The whole search (at most 15 settings, none tried twice), on the newest rows only.
    settings = [
        tuple(sorted((k, v) for k, v in t.items() if k != "log_loss")) for t in trained.tuning
    ]
    assert 12 < len(settings) == len(set(settings)) <= 15
    # The holdout figures are honest and the model learned the planted rule.
    assert m.holdout_size == data.holdout.stop - data.holdout.start
    assert m.accuracy >= m.baseline_accuracy + 0.03
    assert m.calibration_error <= 0.05
    for calibration in (trained.calibration, trained.evaluated_calibration):
        scores = calibration["chosen_by"]
        assert calibration["method"] == min(scores, key=scores.__getitem__)


def test_a_large_logs_served_rounds_scale_early_stopping_by_the_rows(
    small_tune_rows: int,
) -> None:
    examples = create_examples(seed=4, rule="high_debt_retail")
    trained = train_classifier(examples, seed=4, num_threads=1)
    # Replay the evaluated fit: the same parameters, early stopping on the validation slice.
    data = prepare(examples)
    older = data.evaluated_rows(data.train, data.calibration, data.validation)
    v, n_older = data.validation.start, data.holdout.start
    names = [f"f{i}" for i in range(data.evaluated_spec.width)]

    def dataset(rows: Any, labels: np.ndarray, reference: lgb.Dataset | None) -> lgb.Dataset:
        return lgb.Dataset(
            rows,
            label=labels,
            reference=reference,
            feature_name=names,
            categorical_feature=data.evaluated_spec.categorical_indices,
            params={"feature_pre_filter": False},
            free_raw_data=False,
        )

    train_set = dataset(older[:v], data.y[:v], None)
    booster = lgb.train(
        trained.params,
        train_set,
        num_boost_round=ml.tuning.MAX_ROUNDS,
        valid_sets=[dataset(older[v:], data.y[v:n_older], train_set)],
        callbacks=[lgb.early_stopping(30, first_metric_only=True, verbose=False)],
    )
    assert trained.rounds_run == round(booster.best_iteration * N / v)
