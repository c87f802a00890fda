"""From JSON payloads to a numeric matrix, the same way at training and at scoring time.

A payload is flattened first (ml.columns: nested objects become dotted names, None is
missing, a list is recorded as its length, "tags.length").

`build_spec` infers a FeatureSpec from training payloads: each flattened field
is numeric (int or float), boolean or categorical (string), by majority of
the values seen; values of another type count as missing. A string field whose values
are long and mostly distinct is text instead (ml.text_columns: the rule, and its hashed
word and character n-gram columns; ml.text_model, the linear model of its n-grams that
training fits and whose scores end its block). `encode` turns
payloads into a float64 matrix by that spec, with NaN for anything missing,
unseen or of the wrong type. The matrix has one column per numeric, boolean or
categorical feature, in spec order, then a block of columns per text feature, in spec
order (`FeatureSpec.column_ranges`). The spec is stored with the model (`to_json`), so
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
from ml.text_columns import TEXT_N_HASH, is_free_text, text_block, text_width
from ml.text_model import TextModel

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

Kind = Literal["numeric", "boolean", "categorical", "text"]
KINDS: tuple[Kind, ...] = ("numeric", "boolean", "categorical")
"""The kinds a value has (a field's kind is their majority; "text" is a kind of field)."""
FIELD_KINDS: tuple[Kind, ...] = (*KINDS, "text")
MIN_PRESENCE = 0.01  # fields present in fewer than 1% of training payloads are dropped
SPEC_VERSION = 3  # 2: text fields (with their n_hash); 3: and their linear models
# A spec is written with the lowest version that holds it: 1 without text fields, 2 with
# text fields but no linear model (ml.text_model), 3 with one.
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
    n_hash: int = 0  # text: hashed columns per n-gram kind (ml.text_columns)
    text_model: TextModel | None = None  # text: its linear model, fitted on the labels

    @property
    def width(self) -> int:
        """Its columns in the matrix: one, or a text field's block (its n-gram columns,
        then its linear model's scores, if it has one)."""
        if self.kind != "text":
            return 1
        return text_width(self.n_hash) + (self.text_model.width if self.text_model else 0)


@dataclass
class FeatureSpec:
    features: list[FeatureInfo]

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.features]

    @property
    def has_text(self) -> bool:
        return any(f.kind == "text" for f in self.features)

    def column_ranges(self) -> list[tuple[int, int]]:
        """Each feature's columns [start, stop), in spec order: the numeric, boolean and
        categorical features first (one column each, in spec order), then the text
        features' blocks. Without text fields, feature i is column i."""
        scalar = sum(f.kind != "text" for f in self.features)
        ranges: list[tuple[int, int]] = []
        next_scalar, next_text = 0, scalar
        for f in self.features:
            if f.kind == "text":
                ranges.append((next_text, next_text + f.width))
                next_text += f.width
            else:
                ranges.append((next_scalar, next_scalar + 1))
                next_scalar += 1
        return ranges

    @property
    def width(self) -> int:
        """The matrix's columns."""
        return sum(f.width for f in self.features)

    def column_features(self) -> np.ndarray:
        """The index of the feature each column belongs to."""
        owner = np.empty(self.width, dtype=np.intp)
        for i, (start, stop) in enumerate(self.column_ranges()):
            owner[start:stop] = i
        return owner

    @property
    def categorical_indices(self) -> list[int]:
        """The columns of the categorical features."""
        return [
            start
            for f, (start, _) in zip(self.features, self.column_ranges(), strict=True)
            if f.kind == "categorical"
        ]

    def to_json(self) -> dict[str, Any]:
        """Plain JSON, of the lowest version that holds the spec (see SPEC_VERSION)."""
        features: list[dict[str, Any]] = []
        version = 1
        for f in self.features:
            item: dict[str, Any] = {
                "name": f.name,
                "kind": f.kind,
                "categories": list(f.categories),
            }
            if f.kind == "text":
                item["n_hash"] = f.n_hash
                version = max(version, 2)
                if f.text_model is not None:
                    item["linear"] = f.text_model.to_json()
                    version = 3
            features.append(item)
        return {"version": version, "features": features}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FeatureSpec:
        """A stored spec, version 1 (before text fields), 2 or 3."""
        version = data.get("version", 1)
        if not isinstance(version, int) or not 1 <= version <= SPEC_VERSION:
            raise ValueError(f"feature spec version {version!r} is not one this code reads")
        features = []
        for item in data["features"]:
            kind = item["kind"]
            if kind not in FIELD_KINDS:
                raise ValueError(f"unknown feature kind {kind!r} for {item['name']!r}")
            n_hash = int(item.get("n_hash") or 0) if kind == "text" else 0
            if kind == "text" and n_hash < 1:
                raise ValueError(f"text feature {item['name']!r} has no positive n_hash")
            linear = item.get("linear") if kind == "text" else None
            features.append(
                FeatureInfo(
                    name=str(item["name"]),
                    kind=kind,
                    categories=[str(c) for c in item.get("categories") or []],
                    n_hash=n_hash,
                    text_model=None if linear is None else TextModel.from_json(linear),
                )
            )
        return cls(features)


def build_spec(
    payloads: Sequence[Mapping[str, Any]], max_categories: int = 100, *, text: bool = True
) -> FeatureSpec:
    """Infer the features of these training payloads (see `build_spec_from_columns`)."""
    return build_spec_from_columns(flatten_columns(payloads), max_categories, text=text)


def build_spec_from_columns(
    columns: Columns,
    max_categories: int = 100,
    min_presence: float = MIN_PRESENCE,
    *,
    text: bool = True,
) -> FeatureSpec:
    """One feature per flattened field with a value in at least `min_presence` of the
    payloads (values of no kind, e.g. arbitrary objects, do not count).

    Its kind is the majority kind of its values (ties: numeric, then boolean, then
    categorical); values of the other kinds will be encoded as missing. A categorical
    keeps its `max_categories` most frequent strings (ties alphabetical); the rest encode
    as missing, like strings never seen. With `text`, a categorical whose strings are
    free text (ml.text_columns.is_free_text) is a text feature instead. Features are
    sorted by name, so the spec does not depend on the order of keys or payloads.
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
            if text and is_free_text(seen.items()):
                features.append(FeatureInfo(name, "text", n_hash=TEXT_N_HASH))
                continue
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
    """float64 matrix (len(payloads), spec.width); see `encode_columns`."""
    return encode_columns(spec, flatten_columns(payloads))


def encode_columns(spec: FeatureSpec, columns: Columns) -> np.ndarray:
    """The matrix for these flattened columns (see `flatten_columns`), by the spec.

    numeric: the number (non-finite -> NaN); boolean: 0.0 / 1.0; categorical: the index
    of the string in `categories`. Missing fields, unseen categories and values of
    another kind are NaN (bools are not numbers here, and numbers are not booleans).
    text: the field's block of n-gram columns and its linear model's scores
    (ml.text_columns.text_block), dense here; a missing text has no n-grams.
    """
    n = columns.n_rows
    out = np.full((n, spec.width), np.nan, dtype=np.float64)  # row-major, for LightGBM
    for info, (j, stop) in zip(spec.features, spec.column_ranges(), strict=True):
        col = columns.values.get(info.name)
        if col is not None and len(col) != n:
            raise ValueError(f"column {info.name!r} has {len(col)} values, not {n}")
        if info.kind == "text":
            block = text_block(col or [None] * n, info.n_hash, info.text_model)
            out[:, j:stop] = block.toarray()
        elif col is not None:
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
