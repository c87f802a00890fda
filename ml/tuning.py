"""Choosing the few LightGBM parameters that matter on small data, by time-ordered
cross-validation within a fixed budget.

Tuning is for small data: it sees at most the newest TUNE_ROWS rows it is given (the
labels just before the holdout), so its cost is bounded however long the log grows.
The rows (oldest first) are cut at FOLD_EDGES: fold k trains on the rows before edge k
and is validated, with early stopping on its log loss, on the rows up to edge k + 1 (an
expanding window, always predicting the future from the past). A candidate's score is
the log loss of its out-of-fold predictions, all validation blocks together.

The search is staged, in a fixed order (deterministic): first the tree shape
(num_leaves x min_data_in_leaf, SHAPES x MIN_LEAVES), then lambda_l2 (L2S) around the
best shape, then the learning rate (RATES) around the best of those; a candidate counts
against the budget by the rows it trains on over its folds, at most BUDGET_ROWS in all
(each candidate runs its folds whole), and the first candidate always runs.

For 3,000 labels (2,400 before the holdout) the whole search is 15 candidates x 3 folds
= 45 fits of up to MAX_ROUNDS rounds, a few seconds on one thread. Past TUNE_ROWS labels
before the holdout (a large log) the search is the same on the newest TUNE_ROWS only, at
most 15 x 2.1 x TUNE_ROWS training rows; the folds' rounds, fitted on so few rows, say
nothing of the rounds the whole log supports, so there the evaluated model's rounds come
from early stopping on a validation slice at full size and the served model's are those
scaled to every label (ml.model_fits).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np

from ml.boosting import boost, weight_rows, weighted
from ml.calibration import log_loss
from ml.class_scores import class_probabilities

FOLD_EDGES = (0.55, 0.70, 0.85, 1.0)
SHAPES = (4, 7, 15, 31)  # num_leaves
MIN_LEAVES = (5, 20, 50)  # min_data_in_leaf (and min_data_per_group)
L2S = (0.0, 1.0, 10.0)
RATES = (0.1, 0.05)
BUDGET_ROWS = 2_000_000
MAX_ROUNDS = 1000
TUNE_ROWS = 20_000  # the newest rows the search sees: tuning is for small data

Progress = Callable[[float, str], None]


@dataclass
class Candidate:
    params: dict[str, Any]
    log_loss: float
    best_rounds: list[int]  # per fold
    fold_rows: list[int]  # training rows per fold
    oof: np.ndarray  # raw class probabilities on the validation blocks, in row order

    def rounds_for(self, n_rows: int) -> int:
        """Rounds for a fit on n_rows: each fold's best round scaled by n_rows over the
        rows it trained on (more data supports more rounds), averaged."""
        pairs = zip(self.best_rounds, self.fold_rows, strict=True)
        scaled = [b * n_rows / max(1, r) for b, r in pairs]
        return max(1, round(float(np.mean(scaled))))


@dataclass
class Tuning:
    """The chosen candidate, where its out-of-fold predictions start (a row of the rows
    given to `tune`), and every tried one (its varied parameters and score), in the order
    tried. window: the rows the search saw, the newest of those given (TUNE_ROWS)."""

    best: Candidate
    oof_start: int
    window: slice = field(default_factory=lambda: slice(0, 0))
    tried: list[dict[str, Any]] = field(default_factory=list)


def folds(n: int) -> list[tuple[int, int, int]]:
    """(train stop, validation start, validation stop) per fold; train starts at row 0."""
    edges = [round(n * e) for e in FOLD_EDGES]
    return [(a, a, b) for a, b in itertools.pairwise(edges) if a >= 1 and b > a]


def tune(
    X: Any,
    y: np.ndarray,
    base: dict[str, Any],
    dataset: Callable[[Any, np.ndarray, lgb.Dataset | None], lgb.Dataset],
    report: Progress,
    weight: np.ndarray | None = None,
) -> Tuning:
    """Search the grid (see the module) on the newest TUNE_ROWS of rows X (oldest first)
    with labels y.

    base: LightGBM parameters the candidates vary; dataset(rows, labels, reference)
    builds an lgb.Dataset binned like `reference` if given (it must keep its raw data:
    the validation rows are predicted from it). report(fraction, message) from 0 to 1
    as candidates finish. weight: per-row sample weights of the folds' fits (None: 1 each;
    the candidates are still compared by their unweighted out-of-fold log loss)."""
    window = slice(max(0, len(y) - TUNE_ROWS), len(y))
    if window.start:  # a large log (a CSR matrix's slice is a copy: only then)
        X, y = X[window], y[window]
        weight = None if weight is None else weight[window]
    all_folds = folds(len(y))
    per_candidate = sum(stop for stop, _, _ in all_folds)
    allowed = max(1, BUDGET_ROWS // max(1, per_candidate))
    sets = []
    for stop, lo, hi in all_folds:
        train_set = weighted(dataset(X[:stop], y[:stop], None), weight_rows(weight, 0, stop))
        valid_set = weighted(dataset(X[lo:hi], y[lo:hi], train_set), weight_rows(weight, lo, hi))
        sets.append((train_set, valid_set, lo, hi))
    total = min(allowed, len(SHAPES) * len(MIN_LEAVES) + len(L2S) - 1 + len(RATES) - 1)
    tried: list[dict[str, Any]] = []
    best: Candidate | None = None

    def attempt(changes: dict[str, Any]) -> Candidate | None:
        nonlocal best
        if len(tried) >= allowed:
            return None
        params = {**base, **changes}
        candidate = _cross_validate(params, sets, y)
        tried.append({**changes, "log_loss": round(candidate.log_loss, 6)})
        if best is None or candidate.log_loss < best.log_loss:
            best = candidate
        report(len(tried) / total, f"tuning: {len(tried)} of {total} parameter settings")
        return candidate

    for leaves in SHAPES:
        for min_leaf in MIN_LEAVES:
            attempt(_shape(leaves, min_leaf, base))
    assert best is not None  # the first attempt always runs
    around = _varied(best.params)  # each stage varies the best so far; none is tried twice
    for l2 in L2S:
        if l2 != around["lambda_l2"]:
            attempt({**around, "lambda_l2": l2})
    around = _varied(best.params)
    for rate in RATES:
        if rate != around["learning_rate"]:
            attempt({**around, "learning_rate": rate})
    return Tuning(best=best, oof_start=window.start + all_folds[0][1], tried=tried, window=window)


def _shape(leaves: int, min_leaf: int, base: dict[str, Any]) -> dict[str, Any]:
    return {
        "num_leaves": leaves,
        "min_data_in_leaf": min_leaf,
        "min_data_per_group": min_leaf,
        "lambda_l2": base["lambda_l2"],
        "learning_rate": base["learning_rate"],
    }


def _varied(params: dict[str, Any]) -> dict[str, Any]:
    keys = ("num_leaves", "min_data_in_leaf", "min_data_per_group", "lambda_l2", "learning_rate")
    return {k: params[k] for k in keys}


def _cross_validate(
    params: dict[str, Any], sets: Sequence[tuple[lgb.Dataset, lgb.Dataset, int, int]], y: Any
) -> Candidate:
    best_rounds, fold_rows, parts = [], [], []
    for train_set, valid_set, lo, _ in sets:
        booster, _, best = boost(
            params, train_set, valid_set, _quiet, 0.0, 1.0, max_rounds=MAX_ROUNDS
        )
        best_rounds.append(best)
        fold_rows.append(lo)
        parts.append(class_probabilities(booster.predict(valid_set.data, num_iteration=best)))
    oof = np.concatenate(parts)
    start = sets[0][2]
    return Candidate(
        params=params,
        log_loss=log_loss(oof, y[start : start + len(oof)]),
        best_rounds=best_rounds,
        fold_rows=fold_rows,
        oof=oof,
    )


def _quiet(fraction: float, message: str) -> None:
    """Folds report nothing of their rounds: progress counts candidates."""


def fit_rounds(
    params: dict[str, Any], train_set: lgb.Dataset, rounds: int, report: Progress
) -> lgb.Booster:
    """A booster of exactly `rounds` rounds (no validation set: the rounds are chosen),
    report(fraction, message) once per round."""

    def on_round(env: Any) -> None:
        done = env.iteration - env.begin_iteration + 1
        report(done / rounds, f"boosting round {done} of {rounds}")

    return lgb.train(params, train_set, num_boost_round=rounds, callbacks=[on_round])
