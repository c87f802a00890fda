"""Training the workflow classifier: LightGBM on the decision log.

Training (`train_classifier`) is pure: TrainingExamples in, a TrainedClassifier
out (model text, feature spec, calibration and holdout metrics, all plain
data the store can keep). The examples are ordered by time and featurised
(ml.training_data); the newest 20% are the holdout, never seen by the evaluated model:

- tuning (ml.tuning): the few parameters that matter on small data (leaves, minimum
  data in a leaf, L2 regularisation, learning rate) by time-ordered cross-validation on
  the newest labels before the holdout (at most ml.tuning.TUNE_ROWS), early stopping on
  each validation fold;
- the evaluated model (ml.model_fits): the chosen parameters fitted on every label before
  the holdout, for early stopping's rounds scaled to those rows, calibrated by a map
  chosen and fitted on the out-of-fold predictions (ml.calibration.choose_calibration);
  on a large log (past TUNE_ROWS), fitted on the labels before the validation slice with
  early stopping on it, and calibrated there. Its accuracy, log loss and calibration
  error on the holdout, next to the accuracy of the proposals the humans were shown on
  the same items (baseline_accuracy), are the honest figures the promotion verdict is
  given;
- the served model: the same parameters refitted on every labelled decision, for the
  rounds scaled to all of them, calibrated on the evaluated model's out-of-sample
  predictions before the holdout and on the holdout. It is what is stored.

Two classes train a binary objective (class 1 = classes[1]), more a multiclass
one; ml.class_scores hides the difference. LightGBM sees columns as f0..fN (so
any payload key is a valid name); the spec maps them back to payload fields (a text
field has a block of columns: FeatureSpec.column_ranges).

Scoring is ml.loaded_classifier's (`LoadedClassifier`); this module exports it too,
with the training data's names, as the classifier's one entry point.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
import scipy.sparse as sp

from ml.boosting import weight_rows, weighted
from ml.calibration import apply_calibration, choose_calibration, expected_calibration_error
from ml.class_scores import class_probabilities, decide
from ml.features import FeatureSpec
from ml.loaded_classifier import LoadedClassifier, Prediction
from ml.model_fits import fit_evaluated
from ml.training_data import (
    MIN_EXAMPLES,
    InsufficientData,
    PreparedData,
    TrainingExample,
    TrainingSet,
    prepare,
)
from ml.tuning import TUNE_ROWS, fit_rounds, tune

__all__ = [
    "MIN_EXAMPLES",
    "ClassifierMetrics",
    "InsufficientData",
    "LoadedClassifier",
    "Prediction",
    "PreparedData",
    "TrainedClassifier",
    "TrainingExample",
    "TrainingSet",
    "lightgbm_names",
    "lightgbm_params",
    "prepare",
    "stored_and_loaded",
    "train_classifier",
]

Progress = Callable[[float, str], None]

SINGLE_THREAD_BELOW = 50_000
LOG_LOSS_EPS = 1e-15


@dataclass
class ClassifierMetrics:
    holdout_size: int
    accuracy: float
    baseline_accuracy: float
    log_loss: float
    calibration_error: float
    evaluated_on: int = 0  # rows the evaluated model was fitted on (all before the holdout)
    calibration_method: str = "identity"  # the evaluated model's, chosen by evidence


@dataclass
class TrainedClassifier:
    spec: FeatureSpec
    classes: list[str]
    model_text: str  # the served model, refitted on every labelled decision
    calibration: dict[str, Any]
    metrics: ClassifierMetrics
    used_features: list[str]  # spec names with a non-zero split count, in spec order
    trained_on: int  # rows the served booster was fitted on: every labelled decision
    best_iteration: int  # the served model's rounds (early stopping's, scaled to the data)
    # Extras, beyond the job's needs: slice sizes, LightGBM parameters, rounds run.
    split: dict[str, int] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    rounds_run: int = 0
    evaluated_on: int = 0  # rows the evaluated model (the holdout figures') was fitted on
    evaluated_calibration: dict[str, Any] = field(default_factory=dict)
    tuning: list[dict[str, Any]] = field(default_factory=list)  # settings tried, their loss
    evaluated_spec: FeatureSpec | None = None  # built without the holdout; `spec` from all


def lightgbm_params(
    n_train: int, n_classes: int, *, seed: int = 7, num_threads: int = 2
) -> dict[str, Any]:
    """Defaults that hold from a few dozen rows to millions.

    min_data_in_leaf grows with the data (2 .. 100, about n/200); min_data_per_group
    (rows per category in a categorical split) follows it, since LightGBM's default
    of 100 would forbid categorical splits on small data.

    num_threads is an upper bound: under SINGLE_THREAD_BELOW training rows one thread is
    used. Threads gain little there, and on a busy machine OpenMP threads waiting for a
    descheduled sibling turned a 0.05 s fit into several seconds.
    """
    min_leaf = int(min(100, max(2, n_train // 200)))
    threads = 1 if n_train < SINGLE_THREAD_BELOW else max(1, num_threads)
    params: dict[str, Any] = {
        "learning_rate": 0.1,
        "num_leaves": 31,
        "min_data_in_leaf": min_leaf,
        "min_data_per_group": min_leaf,
        "cat_smooth": 10.0,
        "max_bin": 255,
        "lambda_l2": 1.0,
        "seed": seed,
        "deterministic": True,
        "force_row_wise": True,
        "num_threads": threads,
        "verbosity": -1,
    }
    if n_classes == 2:
        params.update(objective="binary", metric="binary_logloss")
    else:
        params.update(objective="multiclass", num_class=n_classes, metric="multi_logloss")
    return params


def stored_and_loaded(trained: TrainedClassifier) -> LoadedClassifier:
    """The classifier as scoring gets it from the store: its spec, classes, model text and
    calibration through JSON, then loaded."""
    stored = json.loads(
        json.dumps(
            {
                "spec": trained.spec.to_json(),
                "classes": trained.classes,
                "model_text": trained.model_text,
                "calibration": trained.calibration,
            }
        )
    )
    return LoadedClassifier.load(
        stored["spec"], stored["classes"], stored["model_text"], stored["calibration"]
    )


def lightgbm_names(spec: FeatureSpec) -> list[str]:
    return [f"f{i}" for i in range(spec.width)]


def train_classifier(
    examples: Sequence[TrainingExample] | TrainingSet,
    *,
    seed: int = 7,
    progress: Progress | None = None,
    num_threads: int = 2,
    min_examples: int = MIN_EXAMPLES,
) -> TrainedClassifier:
    """Featurise, split by time, tune, evaluate on the holdout, then refit on every label.

    Deterministic for the same examples, seed and num_threads (LightGBM's
    deterministic=True; see `lightgbm_params` for the threads actually used).
    `progress(fraction, message)` is called from this thread: 0.0-0.1 featurising,
    0.1-0.6 tuning, 0.6-0.75 and 0.75-0.95 the evaluated and the served fits (once per
    boosting round), then calibrating, ending with 1.0.
    Raises InsufficientData with a message for people. A TrainingSet (the job streams the
    decision log into one) is consumed.
    """
    report: Progress = progress or (lambda fraction, message: None)
    report(0.0, f"featurising {len(examples)} labelled decisions")
    data = prepare(examples, min_examples=min_examples)
    spec, classes, y = data.spec, data.classes, data.y
    n_classes, n, n_older = len(classes), len(y), data.holdout.start
    # The evaluated model sees the holdout nowhere, not even in its spec (ml.evaluated_rows).
    evaluated_spec = data.evaluated_spec
    older = data.evaluated_rows(data.train, data.calibration, data.validation)
    report(
        0.1,
        f"tuning on {n_older} decisions with {len(evaluated_spec.features)} features "
        f"({evaluated_spec.width} columns)",
    )
    base = lightgbm_params(n_older, n_classes, seed=seed, num_threads=num_threads)
    # Tuning sees at most TUNE_ROWS rows: its fits get that many rows' threads.
    tuning_base = lightgbm_params(
        min(n_older, TUNE_ROWS), n_classes, seed=seed, num_threads=num_threads
    )

    def dataset(
        rows: Any, labels: np.ndarray, reference: lgb.Dataset | None, by: FeatureSpec
    ) -> lgb.Dataset:
        return lgb.Dataset(
            rows,
            label=labels,
            reference=reference,
            feature_name=lightgbm_names(by),
            categorical_feature=by.categorical_indices,
            params={"feature_pre_filter": False},
            free_raw_data=False,
        )

    def evaluated_dataset(
        rows: Any, labels: np.ndarray, reference: lgb.Dataset | None
    ) -> lgb.Dataset:
        return dataset(rows, labels, reference, evaluated_spec)

    weight = data.weight  # None unless some labels are consensuses that may be wrong
    older_weight = weight_rows(weight, 0, n_older)
    tuning = tune(
        older, y[:n_older], tuning_base, evaluated_dataset, _within(report, 0.1, 0.6), older_weight
    )
    params = {**tuning.best.params, "num_threads": base["num_threads"]}
    fit = fit_evaluated(
        tuning,
        params,
        older,
        y,
        data.validation.start,
        evaluated_dataset,
        _within(report, 0.6, 0.75),
        older_weight,
    )
    labels = y[fit.out_of_sample_start : n_older]
    calibration = choose_calibration(fit.out_of_sample, labels, n_classes)
    holdout_rows = data.evaluated_rows(data.holdout)
    raw_hold = class_probabilities(fit.booster.predict(holdout_rows))
    metrics = _holdout_metrics(data, calibration, raw_hold, fit.fitted_on)
    del older, holdout_rows
    data.extra_parts = None

    served_rounds = fit.served_rounds
    served = fit_rounds(
        params,
        weighted(dataset(_stack(spec, data.parts), y, None, spec), weight),
        served_rounds,
        _within(report, 0.75, 0.95),
    )
    report(0.95, "calibrating on the out-of-fold and holdout predictions")
    served_calibration = choose_calibration(
        np.concatenate([fit.out_of_sample, raw_hold]), y[fit.out_of_sample_start :], n_classes
    )
    splits = served.feature_importance(importance_type="split")
    per_feature = np.bincount(spec.column_features(), weights=splits, minlength=len(spec.names))
    used = [name for name, count in zip(spec.names, per_feature, strict=True) if count > 0]
    trained = TrainedClassifier(
        spec=spec,
        classes=classes,
        model_text=served.model_to_string(),
        calibration=served_calibration,
        metrics=metrics,
        used_features=used,
        trained_on=n,
        best_iteration=served_rounds,
        split={"before_holdout": n_older, "holdout": n - n_older},
        params=params,
        rounds_run=served_rounds,
        evaluated_on=fit.fitted_on,
        evaluated_calibration=calibration,
        tuning=tuning.tried,
        evaluated_spec=evaluated_spec,
    )
    report(
        1.0,
        f"accuracy {metrics.accuracy:.1%} vs {metrics.baseline_accuracy:.1%} for the proposals "
        f"on {metrics.holdout_size} holdout decisions; the served model is refitted on all "
        f"{n}",
    )
    return trained


def _stack(spec: FeatureSpec, parts: Sequence[Any]) -> Any:
    """Consecutive slices' rows as one matrix (CSR with text fields)."""
    if spec.has_text:
        return sp.vstack(parts, format="csr")
    return np.concatenate(parts)


def _within(report: Progress, low: float, high: float) -> Progress:
    return lambda fraction, message: report(low + (high - low) * min(1.0, fraction), message)


def _holdout_metrics(
    data: PreparedData, calibration: dict[str, Any], raw_hold: np.ndarray, evaluated_on: int
) -> ClassifierMetrics:
    """The evaluated model's figures on the holdout, next to the proposals' accuracy."""
    probs = apply_calibration(calibration, raw_hold)
    predicted = decide(probs, raw_hold)
    truth = data.y[data.holdout]
    correct = predicted == truth
    labels = [data.classes[i] for i in truth.tolist()]
    rows = np.arange(len(truth))
    return ClassifierMetrics(
        holdout_size=len(truth),
        accuracy=float(correct.mean()),
        baseline_accuracy=sum(map(operator.eq, data.proposed[data.holdout], labels)) / len(labels),
        log_loss=float(-np.log(np.clip(probs[rows, truth], LOG_LOSS_EPS, 1.0)).mean()),
        calibration_error=expected_calibration_error(probs[rows, predicted], correct),
        evaluated_on=evaluated_on,
        calibration_method=str(calibration["method"]),
    )
