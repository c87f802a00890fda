"""Calibrating predicted class probabilities, stored as plain JSON.

`fit_calibration` fits one isotonic regression per class (one-vs-rest: "is the
label this class?" against that class's predicted probability) on a
calibration slice the model never trained on, and keeps each fitted step
function as its thresholds: {"x": [...], "y": [...]}. `apply_calibration` maps
each column through np.interp on those points (flat beyond the ends, as
IsotonicRegression(out_of_bounds="clip") does) and renormalises each row to
sum to 1, so scoring needs numpy only.

`choose_calibration` picks the calibration itself by evidence: identity, temperature
(p_k proportional to p_k ** a, one parameter fitted by log loss) or isotonic, whichever has
the lowest cross-fitted log loss on out-of-fold predictions (CHOICE_FOLDS interleaved
folds: each fold scored by the map fitted on the others), then fits the winner on all of
them. Identity wins ties, temperature beats isotonic on them: the simpler map first.

Two guards:
- Fewer than MIN_CALIBRATION_EXAMPLES (20) examples: the calibration is the
  identity ({"method": "identity", "reason": ...}); isotonic regression on a
  handful of points would be a coin-flip step function.
- Fitted values are kept within [eps, 1 - eps], eps = 0.5 / (n + 1): a finite
  calibration slice cannot justify a probability of exactly 0 or 1, and a
  confidence of 1.0 would read as certainty to the escalation ladder.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

MIN_CALIBRATION_EXAMPLES = 20
CALIBRATION_VERSION = 1
CHOICE_FOLDS = 5
METHODS = ("identity", "temperature", "isotonic")  # simplest first: it wins ties
TEMPERATURE_BOUNDS = (0.2, 5.0)  # exponents a; beyond them the model's scores mean nothing
PROBABILITY_FLOOR = 1e-6


def identity_calibration(reason: str, n_classes: int) -> dict[str, Any]:
    return {
        "version": CALIBRATION_VERSION,
        "method": "identity",
        "n_classes": int(n_classes),
        "reason": reason,
    }


def fit_calibration(
    probabilities: np.ndarray, labels: np.ndarray, n_classes: int
) -> dict[str, Any]:
    """Per-class isotonic maps fitted on (probabilities[:, k], labels == k).

    probabilities: (n, n_classes) predicted by the model on the calibration slice;
    labels: (n,) integer class indices. Returns JSON-serialisable data for
    `apply_calibration`.
    """
    from sklearn.isotonic import IsotonicRegression  # training time only

    probs = np.asarray(probabilities, dtype=np.float64)
    y = np.asarray(labels)
    if probs.ndim != 2 or probs.shape[1] != n_classes or len(probs) != len(y):
        raise ValueError(
            f"probabilities {probs.shape} and labels {y.shape} do not fit {n_classes} classes"
        )
    n = len(y)
    if n < MIN_CALIBRATION_EXAMPLES:
        return identity_calibration(
            f"calibration slice has {n} examples; at least {MIN_CALIBRATION_EXAMPLES} are "
            "needed, so probabilities are used as the model gives them",
            n_classes,
        )
    eps = 0.5 / (n + 1)
    per_class = []
    for k in range(n_classes):
        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
        iso.fit(probs[:, k], (y == k).astype(np.float64))
        xs = np.asarray(iso.X_thresholds_, dtype=np.float64)
        ys = np.clip(np.asarray(iso.y_thresholds_, dtype=np.float64), eps, 1.0 - eps)
        per_class.append({"x": [float(v) for v in xs], "y": [float(v) for v in ys]})
    return {
        "version": CALIBRATION_VERSION,
        "method": "isotonic",
        "n_classes": int(n_classes),
        "fitted_on": int(n),
        "per_class": per_class,
    }


def apply_calibration(calibration: Mapping[str, Any], probabilities: np.ndarray) -> np.ndarray:
    """Calibrated probabilities (n, n_classes), rows summing to 1.

    A row whose calibrated values are all 0 (cannot happen with the eps guard, but stored
    calibrations are data) keeps the model's probabilities.
    """
    probs = np.atleast_2d(np.asarray(probabilities, dtype=np.float64))
    method = calibration.get("method", "identity")
    if method == "identity":
        return _normalise(probs, probs)
    if method == "temperature":
        return _tempered(probs, float(calibration["exponent"]))
    if method != "isotonic":
        raise ValueError(f"unknown calibration method {method!r}")
    per_class = calibration["per_class"]
    if len(per_class) != probs.shape[1]:
        raise ValueError(
            f"calibration has {len(per_class)} classes, probabilities have {probs.shape[1]}"
        )
    out = np.empty_like(probs)
    for k, points in enumerate(per_class):
        xs = np.asarray(points["x"], dtype=np.float64)
        ys = np.asarray(points["y"], dtype=np.float64)
        if len(xs) == 0:
            out[:, k] = probs[:, k]
        elif len(xs) == 1:
            out[:, k] = ys[0]
        else:
            out[:, k] = np.interp(probs[:, k], xs, ys)
    return _normalise(out, probs)


def _tempered(probs: np.ndarray, exponent: float) -> np.ndarray:
    """Rows of p ** exponent, renormalised (a softmax of the log-probabilities scaled)."""
    logs = exponent * np.log(np.clip(probs, PROBABILITY_FLOOR, 1.0))
    logs -= logs.max(axis=1, keepdims=True)
    out = np.exp(logs)
    return np.asarray(out / out.sum(axis=1, keepdims=True))


def fit_temperature(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """The exponent a minimising the log loss of p ** a (renormalised), within
    TEMPERATURE_BOUNDS."""
    from scipy.optimize import minimize_scalar  # training time only

    probs = np.asarray(probabilities, dtype=np.float64)
    y = np.asarray(labels)
    found = minimize_scalar(
        lambda a: log_loss(_tempered(probs, a), y), bounds=TEMPERATURE_BOUNDS, method="bounded"
    )
    return float(found.x)


def log_loss(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """Mean negative log probability of the true class (floored at PROBABILITY_FLOOR)."""
    y = np.asarray(labels)
    picked = np.asarray(probabilities)[np.arange(len(y)), y]
    return float(-np.log(np.clip(picked, PROBABILITY_FLOOR, 1.0)).mean())


def _fit(method: str, probs: np.ndarray, y: np.ndarray, n_classes: int) -> dict[str, Any]:
    if method == "identity":
        return identity_calibration("chosen on cross-fitted log loss", n_classes)
    if method == "temperature":
        return {
            "version": CALIBRATION_VERSION,
            "method": "temperature",
            "n_classes": int(n_classes),
            "fitted_on": len(y),
            "exponent": fit_temperature(probs, y),
        }
    return fit_calibration(probs, y, n_classes)


def choose_calibration(
    probabilities: np.ndarray, labels: np.ndarray, n_classes: int
) -> dict[str, Any]:
    """The calibration with the lowest cross-fitted log loss (see the module), fitted on
    all the given out-of-fold predictions. Its "chosen_by" holds each method's
    cross-fitted log loss. Fewer than MIN_CALIBRATION_EXAMPLES per fold: identity."""
    probs = np.asarray(probabilities, dtype=np.float64)
    y = np.asarray(labels)
    n = len(y)
    if n < MIN_CALIBRATION_EXAMPLES * CHOICE_FOLDS:
        return identity_calibration(
            f"{n} out-of-fold predictions; at least "
            f"{MIN_CALIBRATION_EXAMPLES * CHOICE_FOLDS} are needed to choose a calibration, "
            "so probabilities are used as the model gives them",
            n_classes,
        )
    fold = np.arange(n) % CHOICE_FOLDS
    scores: dict[str, float] = {}
    for method in METHODS:
        calibrated = np.empty_like(probs)
        for k in range(CHOICE_FOLDS):
            fitted = _fit(method, probs[fold != k], y[fold != k], n_classes)
            calibrated[fold == k] = apply_calibration(fitted, probs[fold == k])
        scores[method] = log_loss(calibrated, y)
    best = min(METHODS, key=lambda m: (round(scores[m], 6), METHODS.index(m)))
    chosen = _fit(best, probs, y, n_classes)
    chosen["chosen_by"] = {m: round(s, 6) for m, s in scores.items()}
    return chosen


def _normalise(values: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    values = np.clip(values, 0.0, None)
    sums = values.sum(axis=1, keepdims=True)
    bad = ~(sums[:, 0] > 0)
    if bad.any():
        values = values.copy()
        values[bad] = np.clip(fallback[bad], 0.0, None)
        sums = values.sum(axis=1, keepdims=True)
        sums[~(sums > 0)] = 1.0
    return values / sums


def expected_calibration_error(
    confidences: np.ndarray, correct: np.ndarray, bins: int = 10
) -> float:
    """Sum over equal-width confidence bins of |accuracy - mean confidence| weighted by the
    bin's share of examples. Bin i holds confidences in [i/bins, (i+1)/bins); 1.0 goes in
    the last bin. 0.0 for no examples."""
    conf = np.asarray(confidences, dtype=np.float64).ravel()
    hits = np.asarray(correct, dtype=np.float64).ravel()
    if len(conf) != len(hits):
        raise ValueError("confidences and correct differ in length")
    n = len(conf)
    if n == 0:
        return 0.0
    which = np.clip((conf * bins).astype(np.int64), 0, bins - 1)
    conf_sum = np.bincount(which, weights=conf, minlength=bins)
    hit_sum = np.bincount(which, weights=hits, minlength=bins)
    return float(np.abs(hit_sum - conf_sum).sum() / n)
