"""From JSON payloads to a numeric matrix, the same way at training and at scoring time.

A payload is flattened first (ml.columns: nested objects become dotted names, None is
missing, a list is recorded as its length, "tags.length").

`build_spec` infers a FeatureSpec from training payloads: each flattened field
is numeric (int or float), boolean or categorical (string), by majority of
the values seen; values of another type count as missing. `encode` turns
payloads into a float64 matrix by that spec, with NaN for anything missing,
unseen or of the wrong type. The spec is stored with the model (`to_json`), so
scoring encodes exactly as training did. Scoring goes through `flatten_columns` and
`encode_columns`; training through a `ColumnBuilder` (ml.column_builder), which
flattens the same way chunk by chunk but keeps each field as compact arrays rather than
lists of objects, so that a million payloads can be streamed in and featurised with
little more memory than the matrix. Both give the same spec and bit-identical matrices
(tests/ml/test_features.py).
"""

from __future__ import annotations

import contextlib
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any, Literal

import numpy as np

from ml.columns import (
    BOOLEAN_OR_NONE,
    CHUNK,
    LIST_SUFFIX,
    NONE_TYPE,
    NUMERIC_OR_NONE,
    STRING_OR_NONE,
    Columns,
    flatten,
    flatten_columns,
)

__all__ = [
    "CHUNK",
    "KINDS",
    "LIST_SUFFIX",
    "MIN_PRESENCE",
    "Columns",
    "FeatureInfo",
    "FeatureSpec",
    "Kind",
    "build_spec",
    "build_spec_from_columns",
    "encode",
    "encode_columns",
    "flatten",
    "flatten_columns",
    "kind_of",
    "kind_of_type",
]

Kind = Literal["numeric", "boolean", "categorical"]
KINDS: tuple[Kind, ...] = ("numeric", "boolean", "categorical")
MIN_PRESENCE = 0.01  # fields present in fewer than 1% of training payloads are dropped
SPEC_VERSION = 1
NAN = math.nan


def kind_of(value: Any) -> Kind | None:
    """The kind a flattened value would give its field (bool is checked before int)."""
    return kind_of_type(type(value))


def kind_of_type(value_type: type) -> Kind | None:
    if issubclass(value_type, bool | np.bool_):
        return "boolean"
    if issubclass(value_type, int | float | np.integer | np.floating):
        return "numeric"
    if issubclass(value_type, str):
        return "categorical"
    return None


@dataclass
class FeatureInfo:
    name: str
    kind: Kind
    categories: list[str] = field(default_factory=list)


@dataclass
class FeatureSpec:
    features: list[FeatureInfo]

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.features]

    @property
    def categorical_indices(self) -> list[int]:
        return [i for i, f in enumerate(self.features) if f.kind == "categorical"]

    def to_json(self) -> dict[str, Any]:
        return {
            "version": SPEC_VERSION,
            "features": [
                {"name": f.name, "kind": f.kind, "categories": list(f.categories)}
                for f in self.features
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FeatureSpec:
        features = []
        for item in data["features"]:
            kind = item["kind"]
            if kind not in KINDS:
                raise ValueError(f"unknown feature kind {kind!r} for {item['name']!r}")
            features.append(
                FeatureInfo(
                    name=str(item["name"]),
                    kind=kind,
                    categories=[str(c) for c in item.get("categories") or []],
                )
            )
        return cls(features)


def build_spec(payloads: Sequence[Mapping[str, Any]], max_categories: int = 100) -> FeatureSpec:
    """Infer the features of these training payloads (see `build_spec_from_columns`)."""
    return build_spec_from_columns(flatten_columns(payloads), max_categories)


def build_spec_from_columns(
    columns: Columns, max_categories: int = 100, min_presence: float = MIN_PRESENCE
) -> FeatureSpec:
    """One feature per flattened field with a value in at least `min_presence` of the
    payloads (values of no kind, e.g. arbitrary objects, do not count).

    Its kind is the majority kind of its values (ties: numeric, then boolean, then
    categorical); values of the other kinds will be encoded as missing. A categorical
    keeps its `max_categories` most frequent strings (ties alphabetical); the rest encode
    as missing, like strings never seen. Features are sorted by name, so the spec does not
    depend on the order of keys or payloads.
    """
    threshold = max(1.0, min_presence * columns.n_rows)
    features: list[FeatureInfo] = []
    for name in sorted(columns.values):
        col = columns.values[name]
        counts = _kind_counts(col, columns.types.get(name))
        if counts.total() < threshold:
            continue
        kind = max(KINDS, key=lambda k: (counts[k], -KINDS.index(k)))
        categories: list[str] = []
        if kind == "categorical":
            types = columns.types.get(name)
            seen: Counter[Any]
            if types is not None and types <= STRING_OR_NONE:
                seen = Counter(col)
                seen.pop(None, None)
            else:
                seen = Counter(v for v in col if isinstance(v, str))
            ranked = sorted(seen.items(), key=lambda item: (-item[1], item[0]))
            categories = [str(value) for value, _ in ranked[:max_categories]]
        features.append(FeatureInfo(name, kind, categories))
    return FeatureSpec(features)


def _kind_counts(col: list[Any], types: set[type] | None) -> Counter[Kind]:
    counts: Counter[Kind] = Counter()
    if types is not None:
        kinds = {kind_of_type(t) for t in types if t is not NONE_TYPE}
        only = next(iter(kinds)) if len(kinds) == 1 else None
        if only is not None:  # one kind and missing values: count them
            counts[only] = len(col) - col.count(None)
            return counts
    for value_type, count in Counter(map(type, col)).items():
        kind = kind_of_type(value_type)
        if kind is not None:
            counts[kind] += count
    return counts


def encode(spec: FeatureSpec, payloads: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """float64 matrix (len(payloads), len(spec.features)); see `encode_columns`."""
    return encode_columns(spec, flatten_columns(payloads))


def encode_columns(spec: FeatureSpec, columns: Columns) -> np.ndarray:
    """The matrix for these flattened columns (see `flatten_columns`), by the spec.

    numeric: the number (non-finite -> NaN); boolean: 0.0 / 1.0; categorical: the index
    of the string in `categories`. Missing fields, unseen categories and values of
    another kind are NaN (bools are not numbers here, and numbers are not booleans).
    """
    n = columns.n_rows
    out = np.full((n, len(spec.features)), np.nan, dtype=np.float64)  # row-major, for LightGBM
    for j, info in enumerate(spec.features):
        col = columns.values.get(info.name)
        if col is not None:
            if len(col) != n:
                raise ValueError(f"column {info.name!r} has {len(col)} values, not {n}")
            types = columns.types.get(info.name)
            out[:, j] = _encode_column(info, col, set(map(type, col)) if types is None else types)
    return out


def _encode_column(info: FeatureInfo, values: Sequence[Any], types: set[type]) -> np.ndarray:
    """values: one per row, None for missing; types: a superset of their types."""
    n = len(values)
    if info.kind == "numeric":
        column: np.ndarray | None = None
        if types <= NUMERIC_OR_NONE:
            with contextlib.suppress(OverflowError):  # an int too large for a float
                column = np.array(values, dtype=np.float64)
        if column is None:
            column = np.fromiter(map(_as_number, values), dtype=np.float64, count=n)
        column[~np.isfinite(column)] = np.nan
        return column
    if info.kind == "boolean":
        if types <= BOOLEAN_OR_NONE:
            return np.array(values, dtype=np.float64)
        return np.fromiter(map(_as_boolean, values), dtype=np.float64, count=n)
    index = {c: float(i) for i, c in enumerate(info.categories)}
    if types <= STRING_OR_NONE:
        return np.fromiter(map(index.get, values, repeat(NAN)), dtype=np.float64, count=n)
    return np.fromiter(
        (index.get(v, NAN) if isinstance(v, str) else NAN for v in values),
        dtype=np.float64,
        count=n,
    )


def _as_number(value: Any) -> float:
    """Numbers (int and float, their subclasses, numpy's) count; bools and the rest are
    missing."""
    if kind_of_type(type(value)) != "numeric":
        return NAN
    try:
        return float(value)
    except (OverflowError, TypeError, ValueError):
        return NAN


def _as_boolean(value: Any) -> float:
    if kind_of_type(type(value)) != "boolean":
        return NAN
    return 1.0 if value else 0.0
