"""Training and scoring the workflow classifier: LightGBM on the decision log.

Training (`train_classifier`) is pure: TrainingExamples in, a TrainedClassifier
out (model text, feature spec, calibration and holdout metrics, all plain
data the store can keep). The split is by time (decided_at), oldest first:

    | train (the rest, oldest) | calibration 15% | validation 15% | holdout 20% (newest) |

Validation and calibration are 15% each of the examples before the holdout, at
most 50,000 each (past that, more rows add cost, not information).

- validation: early stopping on its log loss;
- calibration: a separate slice for the isotonic calibration, not the
  validation slice, since the validation slice already chose the number of
  rounds (a mild, but avoidable, optimism);
- holdout: the newest 20%, never seen in training; accuracy, log loss and
  calibration error there, after calibration, next to the accuracy of the
  proposals the humans were shown on the same items (baseline_accuracy).

Two classes train a binary objective (class 1 = classes[1]), more a multiclass
one; `_class_probabilities` and `_class_contributions` hide the difference.
LightGBM sees features as f0..fN (so any payload key is a valid name); the
spec maps them back to payload fields.

Scoring (`LoadedClassifier`) needs only the stored data: spec JSON, classes,
model text and calibration JSON.
"""

from __future__ import annotations

import itertools
import math
import operator
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from typing import Any

import lightgbm as lgb
import numpy as np

from ml.boosting import boost
from ml.calibration import apply_calibration, expected_calibration_error, fit_calibration
from ml.column_builder import ColumnBuilder
from ml.features import FeatureSpec, encode_columns, flatten_columns

Progress = Callable[[float, str], None]

MIN_EXAMPLES = 40
"""Labelled decisions a workflow needs before a classifier can be trained on them."""
HOLDOUT_SHARE = 0.20
VALIDATION_SHARE = 0.15  # of the examples older than the holdout ...
CALIBRATION_SHARE = 0.15
SLICE_CAP = 50_000  # ... but at most this many each: enough to stop early and to calibrate
MIN_TRAIN_ROWS = 10
SINGLE_THREAD_BELOW = 50_000
LOG_LOSS_EPS = 1e-15
TOP_CONTRIBUTIONS = 10


@dataclass
class TrainingExample:
    payload: dict[str, Any]
    label: str
    decided_at: datetime
    proposed_action: str  # what the humans were shown at the time: the baseline


class InsufficientData(Exception):
    """Not enough labelled decisions (or labels) to train; the message says what is missing."""


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


@dataclass
class Prediction:
    action: str
    confidence: float
    probabilities: dict[str, float]
    # (payload field, its raw value or None, contribution to the predicted class's raw score)
    contributions: list[tuple[str, Any, float]]


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


@dataclass
class PreparedData:
    """Featurised examples, time-ordered, with the slice boundaries. The matrix is kept as
    one column-major matrix per slice (`rows(slice)`), each given to LightGBM as it is."""

    spec: FeatureSpec
    classes: list[str]
    parts: list[np.ndarray]  # the rows of train, calibration, validation, holdout
    y: np.ndarray
    proposed: list[str]
    train: slice
    calibration: slice
    validation: slice
    holdout: slice

    def rows(self, part: slice) -> np.ndarray:
        """The matrix rows of one of the four slices."""
        for known, matrix in zip(self.slices, self.parts, strict=True):
            if part == known:
                return matrix
        raise ValueError(f"{part} is not one of the slices")

    @property
    def slices(self) -> list[slice]:
        return [self.train, self.calibration, self.validation, self.holdout]

    @property
    def X(self) -> np.ndarray:
        """The whole matrix (a copy, C-ordered)."""
        return np.concatenate(self.parts)


def _timestamp(value: datetime) -> float:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def _time_order(stamps: Sequence[datetime]) -> list[int] | None:
    """The indices oldest first (ties in the given order; naive datetimes count as UTC),
    or None if they already are in that order."""
    try:
        if all(map(operator.le, stamps, islice(stamps, 1, None))):
            return None  # the job loads them oldest first
        return sorted(range(len(stamps)), key=stamps.__getitem__)
    except TypeError:  # naive and aware datetimes mixed
        keys = [_timestamp(d) for d in stamps]
        if all(map(operator.le, keys, islice(keys, 1, None))):
            return None
        return sorted(range(len(keys)), key=keys.__getitem__)


_PAYLOAD = operator.attrgetter("payload")
_LABEL = operator.attrgetter("label")
_DECIDED_AT = operator.attrgetter("decided_at")
_PROPOSED = operator.attrgetter("proposed_action")


class TrainingSet:
    """Labelled decisions added in batches, their payloads featurised as they come
    (`ColumnBuilder`), so that the job can stream them from the database without holding
    them all: only the labels, the proposals and the times are kept as they are.
    Batches may come in any order; `prepare` orders the rows by decided_at."""

    def __init__(self) -> None:
        self.columns = ColumnBuilder()
        self.labels: list[str] = []
        self.proposed: list[str] = []
        self.decided_at: list[datetime] = []

    def __len__(self) -> int:
        return len(self.labels)

    def add(self, examples: Sequence[TrainingExample]) -> None:
        self.add_rows(
            list(map(_PAYLOAD, examples)),
            list(map(_LABEL, examples)),
            list(map(_DECIDED_AT, examples)),
            list(map(_PROPOSED, examples)),
        )

    def add_rows(
        self,
        payloads: Sequence[Mapping[str, Any]],
        labels: Sequence[str],
        decided_at: Sequence[datetime],
        proposed: Sequence[str],
    ) -> None:
        if not len(payloads) == len(labels) == len(decided_at) == len(proposed):
            raise ValueError("payloads, labels, times and proposals differ in length")
        self.columns.add(payloads)
        self.labels.extend(labels)
        self.decided_at.extend(decided_at)
        self.proposed.extend(proposed)


def prepare(
    examples: Sequence[TrainingExample] | TrainingSet, *, min_examples: int = MIN_EXAMPLES
) -> PreparedData:
    """Order by decided_at, build the spec on the pre-holdout examples, encode, split.

    A TrainingSet is consumed: its featurised columns are released as they are encoded."""
    if isinstance(examples, TrainingSet):
        data = examples
        order = _time_order(data.decided_at)
        data.decided_at = []  # consumed: what is needed is taken below
    else:
        stamps = list(map(_DECIDED_AT, examples))
        order = _time_order(stamps)
        if order is not None:
            examples = [examples[i] for i in order]
            stamps = [stamps[i] for i in order]
            order = None  # added oldest first
        data = TrainingSet()  # filled in place: no second copy of its lists
        data.columns.add(list(map(_PAYLOAD, examples)))
        data.labels = list(map(_LABEL, examples))
        data.decided_at = stamps
        data.proposed = list(map(_PROPOSED, examples))
        del stamps
    n = len(data)
    if n < max(min_examples, 1):
        raise InsufficientData(
            f"{n} labelled decisions; at least {min_examples} are needed to train a model"
        )
    classes = sorted(set(data.labels))
    if len(classes) < 2:
        raise InsufficientData(
            f"all {n} labelled decisions chose {classes[0]!r}; a model needs at least two "
            "different outcomes to learn from"
        )

    n_older = n - max(1, round(n * HOLDOUT_SHARE))
    n_val = min(SLICE_CAP, max(1, round(n_older * VALIDATION_SHARE)))
    n_cal = min(SLICE_CAP, max(1, round(n_older * CALIBRATION_SHARE)))
    n_train = n_older - n_val - n_cal
    if n_train < MIN_TRAIN_ROWS:
        raise InsufficientData(
            f"{n} labelled decisions leave {n_train} for training after the holdout, "
            f"validation and calibration slices; at least {MIN_TRAIN_ROWS} are needed"
        )
    train = slice(0, n_train)
    calibration = slice(n_train, n_train + n_cal)
    validation = slice(n_train + n_cal, n_older)
    holdout = slice(n_older, n)

    label_index = {c: i for i, c in enumerate(classes)}
    y = np.fromiter(map(label_index.__getitem__, data.labels), np.int32, count=n)
    data.labels = []
    proposed = data.proposed
    # The spec comes from what the model may learn from: nothing after the holdout cut.
    older: int | np.ndarray = n_older
    if order is not None:
        index = np.asarray(order, dtype=np.intp)
        y = y[index]
        proposed = [proposed[i] for i in order]
        older = np.zeros(n, dtype=bool)
        older[index[:n_older]] = True
    if np.count_nonzero(np.bincount(y[train], minlength=len(classes))) < 2:
        raise InsufficientData(
            f"the {n_train} oldest labelled decisions (the training slice) all chose "
            f"{classes[int(y[0])]!r}; a model needs at least two outcomes to learn from"
        )
    spec = data.columns.spec(older)
    if not spec.features:
        raise InsufficientData("the payloads have no usable fields (numbers, booleans, strings)")
    bounds = [0, train.stop, calibration.stop, validation.stop, holdout.stop]
    if order is None:
        parts = data.columns.encode_parts(spec, bounds, release=True)
    else:  # rows to reorder (not the job's case: it reads them oldest first)
        X = data.columns.encode(spec, release=True)[index]
        parts = [np.asfortranarray(X[lo:hi]) for lo, hi in itertools.pairwise(bounds)]
        del X
    return PreparedData(
        spec=spec,
        classes=classes,
        parts=parts,
        y=y,
        proposed=proposed,
        train=train,
        calibration=calibration,
        validation=validation,
        holdout=holdout,
    )


def lightgbm_names(spec: FeatureSpec) -> list[str]:
    return [f"f{i}" for i in range(len(spec.features))]


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
    report(0.1, f"training on {n_train} decisions with {len(spec.features)} features")

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

    raw_cal = _class_probabilities(booster.predict(data.rows(data.calibration), num_iteration=best))
    calibration = fit_calibration(raw_cal, y[data.calibration], n_classes)
    report(0.9, "evaluating on the holdout")

    raw_hold = _class_probabilities(booster.predict(data.rows(data.holdout), num_iteration=best))
    probs = apply_calibration(calibration, raw_hold)
    predicted = _decide(probs, raw_hold)
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
    used = [name for name, count in zip(spec.names, splits, strict=True) if count > 0]
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


def _class_probabilities(raw: Any) -> np.ndarray:
    """LightGBM's predict output as (n, n_classes): binary gives P(class 1) only."""
    raw = np.asarray(raw, dtype=np.float64)
    if raw.ndim == 1:
        return np.column_stack([1.0 - raw, raw])
    return raw


def _decide(calibrated: np.ndarray, raw: np.ndarray) -> np.ndarray:
    """argmax of the calibrated probabilities; ties (isotonic steps are flat) go to the
    class the model itself ranks higher."""
    top = calibrated.max(axis=1, keepdims=True)
    tied = calibrated >= top - 1e-12
    return np.asarray(np.argmax(np.where(tied, raw, -np.inf), axis=1))


def _class_contributions(contrib: Any, n_features: int, n_classes: int) -> np.ndarray:
    """pred_contrib output as (n, n_classes, n_features + 1), bias last.

    Binary models explain the raw score of class 1; class 0's contributions are its
    negation (its log-odds are the negated score)."""
    contrib = np.asarray(contrib, dtype=np.float64)
    width = n_features + 1
    if n_classes == 2 and contrib.shape[1] == width:
        return np.stack([-contrib, contrib], axis=1)
    return contrib.reshape(len(contrib), n_classes, width)


class LoadedClassifier:
    """A stored classifier, ready to score payloads. predict() may be called from several
    threads (asyncio.to_thread); calls are serialised by a lock around LightGBM."""

    def __init__(
        self,
        spec: FeatureSpec,
        classes: list[str],
        booster: lgb.Booster,
        calibration: dict[str, Any],
        num_threads: int = 1,
    ) -> None:
        if booster.num_feature() != len(spec.features):
            raise ValueError(
                f"model has {booster.num_feature()} features, spec has {len(spec.features)}"
            )
        per_round = booster.num_model_per_iteration()
        if len(classes) < 2 or per_round != (1 if len(classes) == 2 else len(classes)):
            raise ValueError(f"model with {per_round} trees per round for classes {classes}")
        self.spec = spec
        self.classes = list(classes)
        self.booster = booster
        self.calibration = calibration
        self.num_threads = num_threads
        self._lock = threading.Lock()

    @classmethod
    def load(
        cls,
        spec_json: Mapping[str, Any],
        classes: list[str],
        model_text: str,
        calibration: dict[str, Any],
        *,
        num_threads: int = 1,
    ) -> LoadedClassifier:
        booster = lgb.Booster(model_str=model_text)
        return cls(FeatureSpec.from_json(spec_json), classes, booster, calibration, num_threads)

    def predict(
        self, payloads: Sequence[Mapping[str, Any]], *, explain: bool = True
    ) -> list[Prediction]:
        """One Prediction per payload. Contributions (SHAP values from LightGBM's
        pred_contrib, on the raw score of the predicted class, before calibration) name
        payload fields with the payload's value (None if missing); the top 10 by absolute
        value, zeros and the bias left out. explain=False skips them (several times faster)."""
        if not payloads:
            return []
        columns = flatten_columns(payloads)
        X = encode_columns(self.spec, columns)
        with self._lock:
            raw = self.booster.predict(X, num_threads=self.num_threads)
            contrib = (
                self.booster.predict(X, pred_contrib=True, num_threads=self.num_threads)
                if explain
                else None
            )
        raw_probs = _class_probabilities(raw)
        probs = apply_calibration(self.calibration, raw_probs)
        chosen = _decide(probs, raw_probs)
        names = self.spec.names
        per_class = (
            None
            if contrib is None
            else _class_contributions(contrib, len(names), len(self.classes))
        )
        missing = [None] * len(payloads)
        raw_values = [columns.values.get(name, missing) for name in names]
        out = []
        for i in range(len(payloads)):
            k = int(chosen[i])
            contributions: list[tuple[str, Any, float]] = []
            if per_class is not None:
                values = per_class[i, k, :-1]
                order = np.argsort(-np.abs(values), kind="stable")[:TOP_CONTRIBUTIONS]
                contributions = [
                    (names[j], raw_values[j][i], float(values[j]))
                    for j in order
                    if values[j] != 0.0 and math.isfinite(values[j])
                ]
            out.append(
                Prediction(
                    action=self.classes[k],
                    confidence=float(probs[i, k]),
                    probabilities={
                        c: float(p) for c, p in zip(self.classes, probs[i], strict=True)
                    },
                    contributions=contributions,
                )
            )
        return out
