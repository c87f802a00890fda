"""Training the workflow classifier: LightGBM on the decision log.

Training (`train_classifier`) is pure: TrainingExamples in, a TrainedClassifier
out (model text, feature spec, calibration and holdout metrics, all plain
data the store can keep). The examples are ordered by time, featurised and split
into train, calibration, validation and holdout slices by ml.training_data:

- validation: early stopping on its log loss;
- calibration: a separate slice for the isotonic calibration, not the
  validation slice, since the validation slice already chose the number of
  rounds (a mild, but avoidable, optimism);
- holdout: the newest 20%, never seen in training; accuracy, log loss and
  calibration error there, after calibration, next to the accuracy of the
  proposals the humans were shown on the same items (baseline_accuracy).

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

from ml.boosting import boost
from ml.calibration import apply_calibration, expected_calibration_error, fit_calibration
from ml.class_scores import class_probabilities, decide
from ml.features import FeatureSpec
from ml.loaded_classifier import LoadedClassifier, Prediction
from ml.training_data import (
    MIN_EXAMPLES,
    InsufficientData,
    PreparedData,
    TrainingExample,
    TrainingSet,
    prepare,
)

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


@dataclass
class TrainedClassifier:
    spec: FeatureSpec
    classes: list[str]
    model_text: str  # truncated at best_iteration
    calibration: dict[str, Any]
    metrics: ClassifierMetrics
    used_features: list[str]  # spec names with a non-zero split count, in spec order
    trained_on: int  # rows the booster was fitted on (the training slice)
    best_iteration: int
    # Extras, beyond the job's needs: slice sizes, LightGBM parameters, rounds run.
    split: dict[str, int] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    rounds_run: int = 0


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
    """Featurise, split by time, train with early stopping, calibrate, evaluate on the holdout.

    Deterministic for the same examples, seed and num_threads (LightGBM's
    deterministic=True; see `lightgbm_params` for the threads actually used).
    `progress(fraction, message)` is called from this thread: 0.0-0.1 featurising,
    0.1-0.8 once per boosting round, 0.8-1.0 calibrating and evaluating, ending with 1.0.
    Raises InsufficientData with a message for people. A TrainingSet (the job streams the
    decision log into one) is consumed.
    """
    report: Progress = progress or (lambda fraction, message: None)
    report(0.0, f"featurising {len(examples)} labelled decisions")
    data = prepare(examples, min_examples=min_examples)
    spec, classes, y = data.spec, data.classes, data.y
    n_classes = len(classes)
    n_train = data.train.stop - data.train.start
    report(
        0.1,
        f"training on {n_train} decisions with {len(spec.features)} features "
        f"({spec.width} columns)",
    )

    params = lightgbm_params(n_train, n_classes, seed=seed, num_threads=num_threads)
    names = lightgbm_names(spec)
    categorical = spec.categorical_indices
    train_set = lgb.Dataset(
        data.rows(data.train),
        label=y[data.train],
        feature_name=names,
        categorical_feature=categorical,
        free_raw_data=True,
    )
    valid_set = lgb.Dataset(
        data.rows(data.validation),
        label=y[data.validation],
        reference=train_set,
        feature_name=names,
        categorical_feature=categorical,
    )

    booster, rounds_run, best = boost(params, train_set, valid_set, report, 0.1, 0.8)
    report(0.8, f"calibrating (best round {best} of {rounds_run})")

    raw_cal = class_probabilities(booster.predict(data.rows(data.calibration), num_iteration=best))
    calibration = fit_calibration(raw_cal, y[data.calibration], n_classes)
    report(0.9, "evaluating on the holdout")

    raw_hold = class_probabilities(booster.predict(data.rows(data.holdout), num_iteration=best))
    probs = apply_calibration(calibration, raw_hold)
    predicted = decide(probs, raw_hold)
    truth = y[data.holdout]
    correct = predicted == truth
    proposed = data.proposed[data.holdout]
    labels = [classes[i] for i in truth.tolist()]
    metrics = ClassifierMetrics(
        holdout_size=len(truth),
        accuracy=float(correct.mean()),
        baseline_accuracy=sum(map(operator.eq, proposed, labels)) / len(labels),
        log_loss=float(
            -np.log(np.clip(probs[np.arange(len(truth)), truth], LOG_LOSS_EPS, 1.0)).mean()
        ),
        calibration_error=expected_calibration_error(
            probs[np.arange(len(truth)), predicted], correct
        ),
    )
    splits = booster.feature_importance(importance_type="split", iteration=best)
    per_feature = np.bincount(spec.column_features(), weights=splits, minlength=len(spec.names))
    used = [name for name, count in zip(spec.names, per_feature, strict=True) if count > 0]
    trained = TrainedClassifier(
        spec=spec,
        classes=classes,
        model_text=booster.model_to_string(num_iteration=best),
        calibration=calibration,
        metrics=metrics,
        used_features=used,
        trained_on=n_train,
        best_iteration=best,
        split={
            "train": n_train,
            "calibration": data.calibration.stop - data.calibration.start,
            "validation": data.validation.stop - data.validation.start,
            "holdout": len(truth),
        },
        params=params,
        rounds_run=rounds_run,
    )
    report(
        1.0,
        f"accuracy {metrics.accuracy:.1%} vs {metrics.baseline_accuracy:.1%} for the proposals "
        f"on {metrics.holdout_size} holdout decisions",
    )
    return trained
