"""The evaluated model's fit, and the rounds of the served model's refit.

After tuning (ml.tuning) has chosen the parameters on the labels before the holdout:

- a small log (at most TUNE_ROWS labels before the holdout, all of them tuned on): the
  evaluated model is fitted on every label before the holdout for the folds' best rounds
  scaled to those rows; its out-of-sample predictions are the chosen candidate's
  out-of-fold ones; the served model gets the folds' rounds scaled to every label;
- a large log (more than TUNE_ROWS: tuning saw only the newest of them): the evaluated
  model is fitted on the labels before the validation slice, with early stopping on that
  slice (at full size, up to ml.training_data.SLICE_CAP rows); its out-of-sample
  predictions are its own there; the served model gets early stopping's best round
  scaled by every label over the rows it was fitted on.

Either way the out-of-sample predictions (`EvaluatedFit.out_of_sample`, from row
`out_of_sample_start` up to the holdout) choose the evaluated model's calibration, and
with its holdout predictions the served model's (ml.classifier). Only LightGBM's work is
here: bench/retrain.py runs the same procedure on raw arrays as its baseline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np

from ml.boosting import boost, weight_rows, weighted
from ml.class_scores import class_probabilities
from ml.tuning import MAX_ROUNDS, Progress, Tuning, fit_rounds

Dataset = Callable[[Any, np.ndarray, lgb.Dataset | None], lgb.Dataset]


@dataclass
class EvaluatedFit:
    """The evaluated model, what it was fitted on, its out-of-sample predictions before
    the holdout and the rounds the served refit is to run."""

    booster: lgb.Booster
    fitted_on: int  # rows, all before the holdout
    out_of_sample: np.ndarray  # raw class probabilities of rows [out_of_sample_start, holdout)
    out_of_sample_start: int
    served_rounds: int


def fit_evaluated(
    tuning: Tuning,
    params: dict[str, Any],
    older: Any,
    y: np.ndarray,
    validation_start: int,
    dataset: Dataset,
    report: Progress,
    weight: np.ndarray | None = None,
) -> EvaluatedFit:
    """Fit the evaluated model on `older` (the rows before the holdout, oldest first) with
    the tuned `params`; y holds every label (older's first), so len(y) is what the served
    model will be fitted on. validation_start: where the validation slice begins in
    `older` (used on a large log only). report(fraction, message) from 0 to 1. weight:
    every row's sample weight (older's first), None for 1 each."""
    n_older = older.shape[0]
    best = tuning.best
    if tuning.window.start == 0:  # a small log: every label before the holdout was tuned on
        train = weighted(dataset(older, y[:n_older], None), weight_rows(weight, 0, n_older))
        booster = fit_rounds(params, train, best.rounds_for(n_older), report)
        return EvaluatedFit(
            booster=booster,
            fitted_on=n_older,
            out_of_sample=best.oof,
            out_of_sample_start=tuning.oof_start,
            served_rounds=best.rounds_for(len(y)),
        )
    v = validation_start
    train_set = weighted(dataset(older[:v], y[:v], None), weight_rows(weight, 0, v))
    valid_set = weighted(
        dataset(older[v:], y[v:n_older], train_set), weight_rows(weight, v, n_older)
    )
    booster, _, rounds = boost(
        params, train_set, valid_set, report, 0.0, 1.0, max_rounds=MAX_ROUNDS
    )
    raw = class_probabilities(booster.predict(older[v:], num_iteration=rounds))
    return EvaluatedFit(
        booster=booster,
        fitted_on=v,
        out_of_sample=raw,
        out_of_sample_start=v,
        served_rounds=max(1, round(rounds * len(y) / v)),
    )
