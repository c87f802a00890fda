"""The evaluated model's rows taken from the served model's matrix, without featurising
every payload twice.

The served model's spec is built from every labelled decision; the evaluated model's
(whose holdout figures decide promotion) from the labels before the holdout only, so that
nothing about the holdout (its categories, its text fields, which fields are common
enough, which kind a field is) shapes the model judged on it. Most of the evaluated
model's columns are the served matrix's:

- a numeric, boolean or text feature of the same kind (and n_hash) in both specs has the
  same column (or block): its encoding does not depend on the rows the spec came from;
- a categorical whose categories are all among the served one's is the served column with
  its codes mapped (a served category the evaluated spec lacks is unknown: NaN).

The rest (a field whose kind differs, a category the served spec left out at
max_categories, a field common enough only before the holdout) are encoded apart,
`EvaluatedView.extra_spec`, a column or block each. `rows` then gives exactly what
encoding the same rows by the evaluated spec gives (tests/ml/test_evaluated_rows.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from ml.features import FeatureInfo, FeatureSpec


@dataclass(frozen=True)
class _Source:
    """Where one evaluated feature's columns come from."""

    extra: bool  # the extra matrix (encoded apart), else the served matrix
    start: int
    stop: int
    codes: np.ndarray | None = None  # categorical: served code -> evaluated code or NaN


class EvaluatedView:
    """The evaluated spec's columns in terms of the served spec's (module docstring)."""

    def __init__(self, served: FeatureSpec, evaluated: FeatureSpec) -> None:
        self.served = served
        self.evaluated = evaluated
        self.same = served == evaluated
        in_served = {
            f.name: (f, bounds)
            for f, bounds in zip(served.features, served.column_ranges(), strict=True)
        }
        apart: list[FeatureInfo] = []
        pending: list[tuple[FeatureInfo, _Source | None]] = []
        for info in evaluated.features:
            found = in_served.get(info.name)
            source = None if found is None else _derived(info, found[0], *found[1])
            if source is None:
                apart.append(info)
            pending.append((info, source))
        self.extra_spec = FeatureSpec(apart)
        extra_at = dict(zip(self.extra_spec.names, self.extra_spec.column_ranges(), strict=True))
        self._sources = [
            source if source is not None else _Source(True, *extra_at[info.name])
            for info, source in pending
        ]

    def rows(self, served: Sequence[Any], extra: Sequence[Any] | None) -> Any:
        """The evaluated spec's matrix for these consecutive parts of the served matrix
        (and the same rows of the extra one), stacked: C-ordered float64, or CSR if the
        evaluated spec has text fields, like `encode` gives (a single part of the same
        spec is returned as it is)."""
        if self.same:
            if len(served) == 1:
                return served[0]
            if self.served.has_text:
                return sp.vstack(served, format="csr")
            return np.concatenate(served)
        if self.extra_spec.features and (extra is None or len(extra) != len(served)):
            raise ValueError("the evaluated spec needs the rows encoded apart")
        n = sum(part.shape[0] for part in served)
        ranges = self.evaluated.column_ranges()
        scalar = sum(f.kind != "text" for f in self.evaluated.features)
        out = np.empty((n, scalar), dtype=np.float64)
        blocks: dict[int, list[Any]] = {}
        lo = 0
        for k, part in enumerate(served):
            apart: Any = extra[k] if extra is not None else None
            dense = (
                _scalar_columns(part, self.served),
                _scalar_columns(apart, self.extra_spec),
            )
            hi = lo + part.shape[0]
            features = zip(self.evaluated.features, self._sources, strict=True)
            for i, (info, source) in enumerate(features):
                if info.kind == "text":
                    matrix = apart if source.extra else part
                    blocks.setdefault(i, []).append(matrix[:, source.start : source.stop])
                    continue
                columns = dense[int(source.extra)]
                if columns is None:  # checked above: the rows encoded apart are given
                    raise ValueError("the evaluated spec needs the rows encoded apart")
                column = columns[:, source.start]
                if source.codes is not None:
                    column = _mapped(column, source.codes)
                out[lo:hi, ranges[i][0]] = column
            lo = hi
        if not blocks:
            return out
        stacked = [sp.vstack(blocks[i], format="csr") for i in sorted(blocks)]
        return sp.hstack([sp.csr_matrix(out), *stacked], format="csr")


def _derived(info: FeatureInfo, served: FeatureInfo, start: int, stop: int) -> _Source | None:
    """The served columns an evaluated feature is, or None if it must be encoded apart."""
    if info.kind != served.kind or info.n_hash != served.n_hash:
        return None
    if info.kind != "categorical" or info.categories == served.categories:
        return _Source(False, start, stop)
    index = {c: i for i, c in enumerate(info.categories)}
    if not index.keys() <= set(served.categories):
        return None  # a category the served spec left out at max_categories
    codes = np.array([index.get(c, np.nan) for c in served.categories], dtype=np.float64)
    return _Source(False, start, stop, codes)


def _scalar_columns(matrix: Any, spec: FeatureSpec) -> np.ndarray | None:
    """The numeric, boolean and categorical columns of a part, dense."""
    if matrix is None:
        return None
    if sp.issparse(matrix):
        return np.asarray(matrix[:, : sum(f.kind != "text" for f in spec.features)].toarray())
    return np.asarray(matrix)


def _mapped(column: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Served category codes as evaluated ones (NaN stays NaN)."""
    out = np.full(len(column), np.nan)
    known = ~np.isnan(column)
    out[known] = codes[column[known].astype(np.intp)]
    return out
