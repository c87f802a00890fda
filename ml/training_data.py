"""The labelled decisions a classifier learns from, ordered by time, featurised and split.

The split is by time (decided_at), oldest first:

    | train (the rest, oldest) | calibration 15% | validation 15% | holdout 20% (newest) |

Validation and calibration are 15% each of the examples before the holdout, at
most 50,000 each (past that, more rows add cost, not information).

Two specs: the served model's from every example (`PreparedData.spec`, the matrix's
`parts`), the evaluated model's from those before the holdout (`evaluated_spec`, its rows
through `evaluated_rows`, mostly the same columns: ml.evaluated_rows). A text field's
linear model is fitted on the labels here, its scores out of fold (ml.text_stacking).
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from typing import Any

import numpy as np
import scipy.sparse as sp

from ml.column_builder import ColumnBuilder
from ml.evaluated_rows import EvaluatedView
from ml.features import FeatureSpec
from ml.text_stacking import StackedRows, TextValues, stack_text_scores

MIN_EXAMPLES = 40
"""Labelled decisions a workflow needs before a classifier can be trained on them."""
HOLDOUT_SHARE = 0.20
VALIDATION_SHARE = 0.15  # of the examples older than the holdout ...
CALIBRATION_SHARE = 0.15
SLICE_CAP = 50_000  # ... but at most this many each: enough to stop early and to calibrate
MIN_TRAIN_ROWS = 10


@dataclass
class TrainingExample:
    payload: dict[str, Any]
    label: str
    decided_at: datetime
    proposed_action: str  # what the humans were shown at the time: the baseline
    # How much the label counts: below 1 when a consensus of several reviews may be wrong.
    weight: float = 1.0


class InsufficientData(Exception):
    """Not enough labelled decisions (or labels) to train; the message says what is missing."""


@dataclass
class PreparedData:
    """Featurised examples, time-ordered, with the slice boundaries. The matrix is kept as
    one column-major matrix per slice (`rows(slice)`), each given to LightGBM as it is
    (a CSR matrix if the spec has text fields).

    `spec` (the served model's) is built from every example; `evaluated_spec` from those
    before the holdout, so the holdout shapes nothing the evaluated model sees: its rows
    are `evaluated_rows`, taken from `parts` and, for the few features the two specs
    encode differently, `extra_parts` (encoded apart; None if there are none)."""

    spec: FeatureSpec
    classes: list[str]
    # The rows of train, calibration, validation, holdout: np.ndarray, CSR with text.
    parts: list[Any]
    y: np.ndarray
    proposed: list[str]
    train: slice
    calibration: slice
    validation: slice
    holdout: slice
    evaluated_spec: FeatureSpec
    extra_parts: list[Any] | None
    # Each row's sample weight, oldest first; None when every row counts once.
    weight: np.ndarray | None = None

    def evaluated_rows(self, *parts: slice) -> Any:
        """Consecutive slices' rows stacked, encoded by the evaluated spec (C-ordered, CSR
        if it has text fields)."""
        index = [self.slices.index(part) for part in parts]
        if index != list(range(index[0], index[0] + len(index))):
            raise ValueError(f"{list(parts)} are not consecutive slices")
        view = EvaluatedView(self.spec, self.evaluated_spec)
        extra = None if self.extra_parts is None else [self.extra_parts[i] for i in index]
        return view.rows([self.parts[i] for i in index], extra)

    def rows(self, part: slice) -> Any:
        """The matrix rows of one of the four slices."""
        for known, matrix in zip(self.slices, self.parts, strict=True):
            if part == known:
                return matrix
        raise ValueError(f"{part} is not one of the slices")

    @property
    def slices(self) -> list[slice]:
        return [self.train, self.calibration, self.validation, self.holdout]

    @property
    def X(self) -> Any:
        """The whole matrix (a copy, C-ordered; CSR with text fields)."""
        if self.spec.has_text:
            return sp.vstack(self.parts, format="csr")
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
_WEIGHT = operator.attrgetter("weight")


class TrainingSet:
    """Labelled decisions added in batches, their payloads featurised as they come
    (`ColumnBuilder`), so that the job can stream them from the database without holding
    them all: only the labels, the proposals, the times and the weights are kept as they
    are. Batches may come in any order; `prepare` orders the rows by decided_at."""

    def __init__(self) -> None:
        self.columns = ColumnBuilder()
        self.labels: list[str] = []
        self.proposed: list[str] = []
        self.decided_at: list[datetime] = []
        self.weights: list[float] = []

    def __len__(self) -> int:
        return len(self.labels)

    def add(self, examples: Sequence[TrainingExample]) -> None:
        self.add_rows(
            list(map(_PAYLOAD, examples)),
            list(map(_LABEL, examples)),
            list(map(_DECIDED_AT, examples)),
            list(map(_PROPOSED, examples)),
            list(map(_WEIGHT, examples)),
        )

    def add_rows(
        self,
        payloads: Sequence[Mapping[str, Any]],
        labels: Sequence[str],
        decided_at: Sequence[datetime],
        proposed: Sequence[str],
        weights: Sequence[float] | None = None,
    ) -> None:
        """Add a batch; `weights` are the rows' sample weights (None: 1 each)."""
        if not len(payloads) == len(labels) == len(decided_at) == len(proposed):
            raise ValueError("payloads, labels, times and proposals differ in length")
        if weights is not None and len(weights) != len(labels):
            raise ValueError("weights and labels differ in length")
        self.columns.add(payloads)
        self.labels.extend(labels)
        self.decided_at.extend(decided_at)
        self.proposed.extend(proposed)
        self.weights.extend(weights if weights is not None else [1.0] * len(labels))


def prepare(
    examples: Sequence[TrainingExample] | TrainingSet, *, min_examples: int = MIN_EXAMPLES
) -> PreparedData:
    """Order by decided_at, build the served spec on every example and the evaluated one
    on the pre-holdout examples, encode once (plus the features they encode differently),
    split.

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
        data.weights = list(map(_WEIGHT, examples))
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
    weight = _weights(data.weights, order)
    # The evaluated model's spec comes from what it may learn from: nothing after the
    # holdout cut. The served model learns from every label, so its spec does too.
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
    evaluated_spec = data.columns.spec(older)
    spec = data.columns.spec()
    if not evaluated_spec.features or not spec.features:
        raise InsufficientData("the payloads have no usable fields (numbers, booleans, strings)")
    apart = EvaluatedView(spec, evaluated_spec).extra_spec
    bounds = [0, train.stop, calibration.stop, validation.stop, holdout.stop]
    texts = _text_values(data.columns, (spec, evaluated_spec), order)
    extra_parts = None
    if order is None:
        if apart.features:
            extra_parts = data.columns.encode_parts(apart, bounds)
        parts = data.columns.encode_parts(spec, bounds, release=True)
    else:  # rows to reorder (not the job's case: it reads them oldest first)
        if apart.features:
            extra_parts = _cut(data.columns.encode(apart)[index], apart, bounds)
        parts = _cut(data.columns.encode(spec, release=True)[index], spec, bounds)
    # Each text field's linear model, its out-of-fold scores in the rows (ml.text_stacking).
    stacked = stack_text_scores(
        StackedRows(spec, evaluated_spec, parts, extra_parts),
        texts,
        y,
        n_older,
        len(classes),
        bounds,
    )
    return PreparedData(
        spec=stacked.spec,
        classes=classes,
        parts=stacked.parts,
        y=y,
        proposed=proposed,
        train=train,
        calibration=calibration,
        validation=validation,
        holdout=holdout,
        evaluated_spec=stacked.evaluated_spec,
        extra_parts=stacked.extra_parts,
        weight=weight,
    )


def _weights(weights: Sequence[float], order: list[int] | None) -> np.ndarray | None:
    """The sample weights oldest first, or None when every one is 1 (LightGBM then trains
    exactly as it always did)."""
    array = np.asarray(weights, dtype=np.float64)
    if not array.size or bool(np.all(array == 1.0)):
        return None
    return array if order is None else array[np.asarray(order, dtype=np.intp)]


def _text_values(
    columns: ColumnBuilder, specs: Sequence[FeatureSpec], order: list[int] | None
) -> dict[str, TextValues]:
    """The values of every text field of these specs, rows oldest first."""
    names = sorted({f.name for spec in specs for f in spec.features if f.kind == "text"})
    out: dict[str, TextValues] = {}
    for name in names:
        strings, codes = columns.strings(name)
        out[name] = TextValues(strings, codes if order is None else codes[order])
    return out


def _cut(X: Any, spec: FeatureSpec, bounds: Sequence[int]) -> list[Any]:
    """Rows cut at bounds: column-major parts, or CSR ones with text fields."""
    return [
        X[lo:hi] if spec.has_text else np.asfortranarray(X[lo:hi])
        for lo, hi in itertools.pairwise(bounds)
    ]
