"""Training and scoring a DRAFT workflow's scorer: LightGBM regression of a draft's outcome.

A scorer predicts the measured result of shipping a draft (recordOutcome(id, value),
e.g. the actual open rate) from the draft's text and the recommendation's payload.
Training (`train_scorer`) is pure: OutcomeExamples in, a TrainedScorer out (model
text, payload feature spec, holdout metrics, all plain data the store can keep). The
split is by time (recorded_at), oldest first:

    | train (the rest, oldest) | validation 15% | holdout 20% (newest) |

Validation is 15% of the examples before the holdout (at most 50,000) and only
chooses the number of boosting rounds (early stopping on its l2). The holdout, never
seen in training, gives R squared, the mean absolute error and, as the baseline, the
mean absolute error of predicting the mean of the values before the holdout.

Features, in this column order:

    | text (ml.text_features: hand features, hashed word and character n-grams) | payload |

The payload part is ml.features' spec and encoding, built on the examples before the
holdout. LightGBM sees f0..fN on a sparse CSR matrix. `used_features` names what the
booster split on: "content:<hand feature>" (see TEXT_FEATURE_NAMES),
"content:word_ngrams" / "content:char_ngrams" for any hashed column of that kind, and
payload fields by their spec names.

Scoring (`LoadedScorer`) needs only the stored data: spec JSON, model text and n_hash.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import lightgbm as lgb
import numpy as np
import scipy.sparse as sp

from ml.boosting import boost
from ml.classifier import lightgbm_params
from ml.features import FeatureSpec, build_spec_from_columns, encode_columns, flatten_columns
from ml.text_features import DEFAULT_N_HASH, TEXT_FEATURE_NAMES, n_columns, text_features

Progress = Callable[[float, str], None]

HOLDOUT_SHARE = 0.20
VALIDATION_SHARE = 0.15  # of the examples older than the holdout ...
SLICE_CAP = 50_000  # ... but at most this many
MIN_TRAIN_ROWS = 10
CONTENT_PREFIX = "content:"


@dataclass
class OutcomeExample:
    content: str  # the draft as shipped
    payload: dict[str, Any]
    value: float  # the measured outcome (e.g. the open rate)
    recorded_at: datetime


class InsufficientOutcomes(Exception):
    """Not enough recorded outcomes to train a scorer; the message says what is missing."""


@dataclass
class ScorerMetrics:
    holdout_size: int
    r2: float
    mean_absolute_error: float
    baseline_mean_absolute_error: float  # predicting the mean of the pre-holdout values


@dataclass
class TrainedScorer:
    spec: FeatureSpec  # payload features only
    model_text: str  # truncated at best_iteration
    metrics: ScorerMetrics
    trained_on: int  # rows the booster was fitted on (the training slice)
    used_features: list[str]
    n_hash: int
    # Extras, beyond the job's needs.
    best_iteration: int = 0
    split: dict[str, int] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    rounds_run: int = 0
    baseline_value: float = 0.0  # the pre-holdout mean the baseline predicts


def scorer_params(n_train: int, *, seed: int = 7, num_threads: int = 2) -> dict[str, Any]:
    """The classifier's defaults (see ml.classifier.lightgbm_params) with an l2 regression
    objective."""
    params = lightgbm_params(n_train, 2, seed=seed, num_threads=num_threads)
    params.update(objective="regression", metric="l2")
    return params


def _timestamp(value: datetime) -> float:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def _time_order(examples: Sequence[OutcomeExample]) -> list[OutcomeExample]:
    """Oldest first, ties in the given order; naive datetimes count as UTC."""
    stamps = [_timestamp(e.recorded_at) for e in examples]
    order = sorted(range(len(stamps)), key=stamps.__getitem__)
    return [examples[i] for i in order]


def feature_matrix(
    spec: FeatureSpec,
    contents: Sequence[str],
    payloads: Sequence[Mapping[str, Any]],
    n_hash: int,
) -> sp.csr_matrix:
    """[text features | payload features] as CSR float64, the same at training and scoring."""
    if len(contents) != len(payloads):
        raise ValueError(f"{len(contents)} contents but {len(payloads)} payloads")
    return _combine(
        text_features(contents, n_hash), encode_columns(spec, flatten_columns(payloads))
    )


def _combine(text: sp.csr_matrix, payload: np.ndarray) -> sp.csr_matrix:
    if payload.shape[1] == 0:
        return text
    return sp.hstack([text, sp.csr_matrix(payload)], format="csr", dtype=np.float64)


def lightgbm_names(spec: FeatureSpec, n_hash: int) -> list[str]:
    return [f"f{i}" for i in range(n_columns(n_hash) + len(spec.features))]


def readable_names(spec: FeatureSpec, n_hash: int) -> list[str]:
    """One name per column; the hashed columns share "content:word_ngrams" and
    "content:char_ngrams"."""
    return (
        [CONTENT_PREFIX + name for name in TEXT_FEATURE_NAMES]
        + [CONTENT_PREFIX + "word_ngrams"] * n_hash
        + [CONTENT_PREFIX + "char_ngrams"] * n_hash
        + spec.names
    )


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError, OverflowError):
        return False


def r_squared(truth: np.ndarray, predicted: np.ndarray) -> float:
    """1 - SSE / SST on these values (as sklearn's r2_score); with no variance in the truth,
    1.0 for a perfect fit and 0.0 otherwise."""
    sse = float(np.sum((truth - predicted) ** 2))
    sst = float(np.sum((truth - truth.mean()) ** 2))
    if sst == 0.0:
        return 1.0 if sse == 0.0 else 0.0
    return 1.0 - sse / sst


def train_scorer(
    examples: Sequence[OutcomeExample],
    *,
    seed: int = 7,
    progress: Progress | None = None,
    num_threads: int = 2,
    min_examples: int = 30,
    n_hash: int = DEFAULT_N_HASH,
) -> TrainedScorer:
    """Featurise, split by time, train with early stopping, evaluate on the holdout.

    Examples whose value is not a finite number are left out. Deterministic for the same
    examples, seed and num_threads (LightGBM's deterministic=True). `progress(fraction,
    message)` is called from this thread: 0.0-0.1 featurising, 0.1-0.9 once per boosting
    round, 0.9-1.0 evaluating, ending with 1.0. Raises InsufficientOutcomes with a message
    for people.
    """
    report: Progress = progress or (lambda fraction, message: None)
    report(0.0, f"featurising {len(examples)} recorded outcomes")
    usable = [e for e in examples if _finite(e.value)]
    n = len(usable)
    if n < max(min_examples, 1):
        skipped = len(examples) - n
        note = f" ({skipped} more without a numeric value)" if skipped else ""
        raise InsufficientOutcomes(
            f"{n} recorded outcomes{note}; at least {min_examples} are needed to train a scorer"
        )
    ordered = _time_order(usable)
    n_older = n - max(1, round(n * HOLDOUT_SHARE))
    n_val = min(SLICE_CAP, max(1, round(n_older * VALIDATION_SHARE)))
    n_train = n_older - n_val
    if n_train < MIN_TRAIN_ROWS:
        raise InsufficientOutcomes(
            f"{n} recorded outcomes leave {n_train} for training after the holdout and "
            f"validation slices; at least {MIN_TRAIN_ROWS} are needed"
        )
    train, validation, holdout = slice(0, n_train), slice(n_train, n_older), slice(n_older, n)
    y = np.array([float(e.value) for e in ordered], dtype=np.float64)
    if np.ptp(y[train]) == 0.0:
        raise InsufficientOutcomes(
            f"the {n_train} oldest recorded outcomes (the training slice) all have the value "
            f"{y[0]:g}; a scorer needs outcomes that differ to learn from"
        )

    payloads = [e.payload for e in ordered]
    columns = flatten_columns(payloads)
    # The spec comes from what the model may learn from: nothing after the holdout cut.
    spec = build_spec_from_columns(columns.head(n_older), text=False)  # the draft is the text
    X = _combine(text_features([e.content for e in ordered], n_hash), encode_columns(spec, columns))
    report(
        0.1,
        f"training on {n_train} outcomes with {len(TEXT_FEATURE_NAMES)} text measures, "
        f"hashed n-grams and {len(spec.features)} payload fields",
    )

    params = scorer_params(n_train, seed=seed, num_threads=num_threads)
    names = lightgbm_names(spec, n_hash)
    offset = n_columns(n_hash)
    categorical = [offset + i for i in spec.categorical_indices]
    train_set = lgb.Dataset(
        X[train],
        label=y[train],
        feature_name=names,
        categorical_feature=categorical,
        free_raw_data=True,
    )
    valid_set = lgb.Dataset(
        X[validation],
        label=y[validation],
        reference=train_set,
        feature_name=names,
        categorical_feature=categorical,
    )

    booster, rounds_run, best = boost(params, train_set, valid_set, report, 0.1, 0.9)
    report(0.9, f"evaluating on the holdout (best round {best} of {rounds_run})")

    predicted = np.asarray(booster.predict(X[holdout], num_iteration=best), dtype=np.float64)
    truth = y[holdout]
    baseline_value = float(y[:n_older].mean())
    metrics = ScorerMetrics(
        holdout_size=len(truth),
        r2=r_squared(truth, predicted),
        mean_absolute_error=float(np.abs(truth - predicted).mean()),
        baseline_mean_absolute_error=float(np.abs(truth - baseline_value).mean()),
    )
    splits = booster.feature_importance(importance_type="split", iteration=best)
    used: list[str] = []
    for name, count in zip(readable_names(spec, n_hash), splits, strict=True):
        if count > 0 and name not in used:
            used.append(name)
    trained = TrainedScorer(
        spec=spec,
        model_text=booster.model_to_string(num_iteration=best),
        metrics=metrics,
        trained_on=n_train,
        used_features=used,
        n_hash=n_hash,
        best_iteration=best,
        split={"train": n_train, "validation": n_val, "holdout": len(truth)},
        params=params,
        rounds_run=rounds_run,
        baseline_value=baseline_value,
    )
    report(
        1.0,
        f"R\u00b2 {metrics.r2:.2f}; mean absolute error {metrics.mean_absolute_error:.4g} vs "
        f"{metrics.baseline_mean_absolute_error:.4g} for the mean, on {metrics.holdout_size} "
        "holdout outcomes",
    )
    return trained


class LoadedScorer:
    """A stored scorer, ready to score drafts. predict() may be called from several threads
    (asyncio.to_thread); calls are serialised by a lock around LightGBM."""

    def __init__(
        self, spec: FeatureSpec, booster: lgb.Booster, n_hash: int, num_threads: int = 1
    ) -> None:
        expected = n_columns(n_hash) + len(spec.features)
        if booster.num_feature() != expected:
            raise ValueError(
                f"model has {booster.num_feature()} features; spec and n_hash={n_hash} "
                f"give {expected}"
            )
        self.spec = spec
        self.booster = booster
        self.n_hash = n_hash
        self.num_threads = num_threads
        self._lock = threading.Lock()

    @classmethod
    def load(
        cls,
        spec_json: Mapping[str, Any],
        model_text: str,
        n_hash: int,
        *,
        num_threads: int = 1,
    ) -> LoadedScorer:
        booster = lgb.Booster(model_str=model_text)
        return cls(FeatureSpec.from_json(spec_json), booster, n_hash, num_threads)

    def predict(
        self, contents: Sequence[str], payloads: Sequence[Mapping[str, Any]]
    ) -> list[float]:
        """The predicted outcome of each (content, payload) pair."""
        if len(contents) != len(payloads):
            raise ValueError(f"{len(contents)} contents but {len(payloads)} payloads")
        if not contents:
            return []
        X = feature_matrix(self.spec, contents, payloads, self.n_hash)
        with self._lock:
            raw = self.booster.predict(X, num_threads=self.num_threads)
        return [float(v) for v in np.asarray(raw, dtype=np.float64)]
