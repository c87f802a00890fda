"""Stacking: each text field's linear model (ml.text_model) fitted on the training labels,
its scores put in the training rows as columns the trees can combine with the rest.

A score a model was fitted on is too good to be true there, so the trees learn from
scores out of fold; both models (the evaluated one, judged on the holdout, and the served
one) learn from the same column:

- the rows before the holdout (at most the newest MAX_ROWS of them, the window): FOLDS
  interleaved folds, each scored by a model fitted on the others; C (the inverse L2
  strength) is the one of CS with the lowest log loss over them;
- every other row (the holdout, rows older than the window): scored by the model fitted
  on the whole window, which never saw them;
- the evaluated spec keeps that model, fitted without the holdout; the served spec keeps
  one refitted with the chosen C on the newest MAX_ROWS of every label. They are what
  scoring computes (FeatureSpec: a text field's block ends with its model's scores).

A field gets a model only if it is text in both specs and both windows have n-grams in
at least MIN_DF rows (ml.text_model); if a class has fewer than MIN_CLASS_ROWS rows in
either window (too few to fit FOLDS folds), no field does. A field without one keeps its
n-gram columns only, as before.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import scipy.sparse as sp

from ml.calibration import log_loss
from ml.evaluated_rows import EvaluatedView
from ml.features import FeatureSpec
from ml.text_model import GramIndex, TextModel

FOLDS = 5
CS = (1.0, 10.0)
MAX_ROWS = 50_000
MIN_CLASS_ROWS = 2 * FOLDS


@dataclass
class TextValues:
    """One field's distinct strings and, per row (oldest first), the index of its string
    or -1 (no string)."""

    strings: list[str]
    codes: np.ndarray


@dataclass
class StackedRows:
    """The specs and row parts with each text field's model and scores (see the module)."""

    spec: FeatureSpec
    evaluated_spec: FeatureSpec
    parts: list[Any]
    extra_parts: list[Any] | None


class _Rows:
    """One field's n-grams by row (a GramIndex of its distinct strings, and their codes)."""

    def __init__(self, values: TextValues) -> None:
        self.index = GramIndex([*values.strings, ""])  # the last: no string
        self.codes = np.where(values.codes < 0, len(values.strings), values.codes)

    def vocabulary(self, rows: slice) -> tuple[dict[str, int], dict[str, int], Any]:
        """The vocabulary of these rows (word and character n-grams to their columns) and
        every row's presence over it."""
        counts = np.bincount(self.codes[rows], minlength=self.index.matrix.shape[0])
        words, chars, kept = self.index.vocabulary(counts)
        word_index = {g: i for i, g in enumerate(words)}
        char_index = {g: len(words) + i for i, g in enumerate(chars)}
        return word_index, char_index, self.index.presence(kept)[self.codes]


@dataclass
class _Linear:
    """A fitted logistic regression's weights: one row per score."""

    coef: np.ndarray  # (scores, n-grams)
    intercept: np.ndarray  # (scores,)

    def decision(self, X: Any) -> np.ndarray:
        """(rows, scores), as sklearn's decision_function computes it."""
        return np.asarray(X @ self.coef.T, dtype=np.float64) + self.intercept


def _fit(X: Any, y: np.ndarray, c: float, n_classes: int) -> _Linear:
    """L2 logistic regression (liblinear): binary, the log-odds of class 1; more classes,
    one-vs-rest, a score per class."""
    from sklearn.linear_model import LogisticRegression  # training time only

    targets = [y] if n_classes == 2 else [(y == k).astype(np.int32) for k in range(n_classes)]
    fitted = [
        LogisticRegression(C=c, solver="liblinear", max_iter=1000, random_state=0).fit(X, t)
        for t in targets
    ]
    return _Linear(
        np.vstack([np.asarray(f.coef_, dtype=np.float64) for f in fitted]),
        np.concatenate([np.asarray(f.intercept_, dtype=np.float64) for f in fitted]),
    )


def _probabilities(scores: np.ndarray) -> np.ndarray:
    """Class probabilities from the scores, as the linear model gives them."""
    p = 1.0 / (1.0 + np.exp(-scores))
    if scores.shape[1] == 1:
        return np.column_stack([1.0 - p[:, 0], p[:, 0]])
    return np.asarray(p / p.sum(axis=1, keepdims=True))  # one-vs-rest, normalised


def _model(fitted: _Linear, words: Mapping[str, int], chars: Mapping[str, int]) -> TextModel:
    return TextModel(
        words={g: fitted.coef[:, i].tolist() for g, i in words.items()},
        chars={g: fitted.coef[:, i].tolist() for g, i in chars.items()},
        intercepts=fitted.intercept.tolist(),
    )


def fit_text_field(
    values: TextValues, y: np.ndarray, n_older: int, n_classes: int = 2
) -> tuple[np.ndarray, TextModel, TextModel] | None:
    """One field's out-of-fold scores for every row (n, width), its evaluated model (no
    holdout label) and its served model (see the module); None if either window has no
    n-gram common enough to learn from."""
    rows = _Rows(values)
    window = slice(max(0, n_older - MAX_ROWS), n_older)
    served_window = slice(max(0, len(y) - MAX_ROWS), len(y))
    words, chars, X = rows.vocabulary(window)
    served_words, served_chars, served_X = rows.vocabulary(served_window)
    if not (words or chars) or not (served_words or served_chars):
        return None
    X_window, y_window = X[window], y[window]
    fold = np.arange(len(y_window)) % FOLDS
    best: tuple[float, float, np.ndarray] | None = None
    for c in CS:
        oof: np.ndarray | None = None
        for k in range(FOLDS):
            fitted = _fit(X_window[fold != k], y_window[fold != k], c, n_classes)
            scores = fitted.decision(X_window[fold == k])
            if oof is None:
                oof = np.empty((len(y_window), scores.shape[1]))
            oof[fold == k] = scores
        assert oof is not None
        loss = log_loss(_probabilities(oof), y_window)
        if best is None or loss < best[0]:
            best = (loss, c, oof)
    assert best is not None
    _, c, oof = best
    evaluated = _fit(X_window, y_window, c, n_classes)
    out = evaluated.decision(X)  # the rows outside the window: out of sample
    out[window] = oof
    served = _fit(served_X[served_window], y[served_window], c, n_classes)
    return (
        out,
        _model(evaluated, words, chars),
        _model(served, served_words, served_chars),
    )


def _enough(y: np.ndarray, n_classes: int, n_older: int) -> bool:
    """Whether every class has MIN_CLASS_ROWS rows in both windows."""
    for rows in (y[max(0, n_older - MAX_ROWS) : n_older], y[max(0, len(y) - MAX_ROWS) :]):
        if np.bincount(rows, minlength=n_classes).min() < MIN_CLASS_ROWS:
            return False
    return True


def stack_text_scores(
    stacked: StackedRows,
    texts: Mapping[str, TextValues],
    y: np.ndarray,
    n_older: int,
    n_classes: int,
    bounds: Sequence[int],
) -> StackedRows:
    """The rows and specs with every text field's scores and models (`texts`: each text
    field's values, of either spec; `bounds`: the parts' rows)."""
    if not texts or not _enough(y, n_classes, n_older):
        return stacked
    scores: dict[str, np.ndarray] = {}
    models: dict[str, tuple[TextModel, TextModel]] = {}
    in_both = _text_names(stacked.spec) & _text_names(stacked.evaluated_spec)
    for name, values in texts.items():
        fitted = fit_text_field(values, y, n_older, n_classes) if name in in_both else None
        if fitted is not None:
            scores[name], models[name] = fitted[0], fitted[1:]
    if not models:
        return stacked
    spec = _with_models(stacked.spec, {n: m[1] for n, m in models.items()})
    evaluated_spec = _with_models(stacked.evaluated_spec, {n: m[0] for n, m in models.items()})
    parts = [
        _insert(part, stacked.spec, spec, scores, lo, hi)
        for part, (lo, hi) in zip(stacked.parts, itertools.pairwise(bounds), strict=True)
    ]
    extra_parts = stacked.extra_parts
    if extra_parts is not None:
        before = EvaluatedView(stacked.spec, stacked.evaluated_spec).extra_spec
        after = EvaluatedView(spec, evaluated_spec).extra_spec
        extra_parts = [
            _insert(part, before, after, scores, lo, hi)
            for part, (lo, hi) in zip(extra_parts, itertools.pairwise(bounds), strict=True)
        ]
    return StackedRows(spec, evaluated_spec, parts, extra_parts)


def _text_names(spec: FeatureSpec) -> set[str]:
    return {f.name for f in spec.features if f.kind == "text"}


def _with_models(spec: FeatureSpec, models: Mapping[str, TextModel]) -> FeatureSpec:
    return FeatureSpec(
        [
            replace(f, text_model=models[f.name]) if f.kind == "text" and f.name in models else f
            for f in spec.features
        ]
    )


def _insert(
    part: Any,
    before: FeatureSpec,
    after: FeatureSpec,
    scores: Mapping[str, np.ndarray],
    lo: int,
    hi: int,
) -> Any:
    """A part encoded by `before` as `after` encodes it: each text block followed by its
    model's scores for rows [lo, hi)."""
    if not after.has_text or after.width == before.width:
        return part
    blocks: list[Any] = []
    scalar = sum(f.kind != "text" for f in before.features)
    blocks.append(part[:, :scalar])
    ranges = before.column_ranges()
    for old, new, (start, stop) in zip(before.features, after.features, ranges, strict=True):
        if old.kind != "text":
            continue
        blocks.append(part[:, start:stop])
        if new.text_model is not None:
            blocks.append(sp.csr_matrix(scores[new.name][lo:hi]))
    return sp.hstack(blocks, format="csr")
