"""Calibrating predicted class probabilities, stored as plain JSON.

`fit_calibration` fits one isotonic regression per class (one-vs-rest: "is the
label this class?" against that class's predicted probability) on a
calibration slice the model never trained on, and keeps each fitted step
function as its thresholds: {"x": [...], "y": [...]}. `apply_calibration` maps
each column through np.interp on those points (flat beyond the ends, as
IsotonicRegression(out_of_bounds="clip") does) and renormalises each row to
sum to 1, so scoring needs numpy only.

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
