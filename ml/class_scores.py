"""LightGBM's outputs as per-class arrays, the same for binary and multiclass models.

Two classes train a binary objective (class 1 = classes[1]), more a multiclass one;
these functions hide the difference from training and scoring alike.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def class_probabilities(raw: Any) -> np.ndarray:
    """LightGBM's predict output as (n, n_classes): binary gives P(class 1) only."""
    raw = np.asarray(raw, dtype=np.float64)
    if raw.ndim == 1:
        return np.column_stack([1.0 - raw, raw])
    return raw


def decide(calibrated: np.ndarray, raw: np.ndarray) -> np.ndarray:
    """argmax of the calibrated probabilities; ties (isotonic steps are flat) go to the
    class the model itself ranks higher."""
    top = calibrated.max(axis=1, keepdims=True)
    tied = calibrated >= top - 1e-12
    return np.asarray(np.argmax(np.where(tied, raw, -np.inf), axis=1))


def class_contributions(contrib: Any, n_features: int, n_classes: int) -> np.ndarray:
    """pred_contrib output as (n, n_classes, n_features + 1), bias last.

    Binary models explain the raw score of class 1; class 0's contributions are its
    negation (its log-odds are the negated score)."""
    contrib = np.asarray(contrib, dtype=np.float64)
    width = n_features + 1
    if n_classes == 2 and contrib.shape[1] == width:
        return np.stack([-contrib, contrib], axis=1)
    return contrib.reshape(len(contrib), n_classes, width)
