"""From JSON payloads to a numeric matrix, the same way at training and at scoring time.

A payload is flattened first (`flatten`): nested objects become dotted names
("owner.age"), None is missing, and a list is not encoded element by element
but recorded as one numeric field, its length ("tags.length"), so "how many"
is learnable while the contents (usually free text or ids) are not.

`build_spec` infers a FeatureSpec from training payloads: each flattened field
is numeric (int or float), boolean or categorical (string), by majority of
the values seen; values of another type count as missing. `encode` turns
payloads into a float64 matrix by that spec, with NaN for anything missing,
unseen or of the wrong type. The spec is stored with the model (`to_json`), so
scoring encodes exactly as training did. Scoring goes through `flatten_columns` and
`encode_columns` (the column-wise form of `flatten`); training through a
`ColumnBuilder`, which flattens the same way chunk by chunk but keeps each field as
compact arrays rather than lists of objects, so that a million payloads can be
streamed in and featurised with little more memory than the matrix. Both give the
same spec and bit-identical matrices (tests/ml/test_features.py).
"""

from __future__ import annotations

import contextlib
import itertools
import math
import mmap
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any, Literal

import numpy as np

Kind = Literal["numeric", "boolean", "categorical"]
KINDS: tuple[Kind, ...] = ("numeric", "boolean", "categorical")
LIST_SUFFIX = ".length"
MIN_PRESENCE = 0.01  # fields present in fewer than 1% of training payloads are dropped
SPEC_VERSION = 1


def flatten(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Nested objects as dotted names; a list as its length under "<name>.length";
    None (at any depth) is left out, i.e. missing. Other scalars are kept as they are."""
    out = dict(payload)
    odd = [k for k, v in out.items() if type(v) not in _PLAIN or type(k) is not str]
    for key in odd:
        value = out.pop(key)
        _flatten_value(out, str(key), value)
    return out


_PLAIN = frozenset({str, int, float, bool})


def _flatten_value(out: dict[str, Any], name: str, value: Any) -> None:
    kind = type(value)
    if kind is dict or (value is not None and isinstance(value, Mapping)):
        prefix = name + "."
        for key, inner in value.items():
            if type(inner) in _PLAIN:
                out[prefix + key if type(key) is str else f"{prefix}{key}"] = inner
            else:
                _flatten_value(out, f"{prefix}{key}", inner)
    elif value is None:
        return
    elif kind is list or kind is tuple or isinstance(value, list | tuple):
        out[name + LIST_SUFFIX] = len(value)
    else:
        out[name] = value


def kind_of(value: Any) -> Kind | None:
    """The kind a flattened value would give its field (bool is checked before int)."""
    return _kind_of_type(type(value))


def _kind_of_type(value_type: type) -> Kind | None:
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


CHUNK = 2048  # payloads per pass: small enough that a chunk's dicts stay in the CPU cache


@dataclass
class Columns:
    """Flattened payloads column by column: for every name some payload has, one value per
    payload (None where that payload lacks it), and the set of value types seen."""

    n_rows: int
    values: dict[str, list[Any]]
    types: dict[str, set[type]]

    def head(self, n: int) -> Columns:
        """The first n rows (the types are those of all rows: a superset)."""
        return Columns(min(n, self.n_rows), {k: v[:n] for k, v in self.values.items()}, self.types)

    @classmethod
    def from_rows(cls, rows: Sequence[Mapping[str, Any]]) -> Columns:
        """From already flattened payloads (see `flatten`)."""
        names: set[str] = set().union(*rows) if rows else set()
        values = {name: [row.get(name) for row in rows] for name in sorted(names)}
        return cls(len(rows), values, {k: set(map(type, v)) for k, v in values.items()})


def flatten_columns(payloads: Sequence[Mapping[str, Any]]) -> Columns:
    """What `flatten` gives for each payload, column by column.

    Built with C-level passes per field over chunks of payloads rather than a Python loop
    per payload, which is what makes featurising a million decisions cheap. Two keys that
    flatten to the same name (a key "a.b" beside {"a": {"b": ...}}) are not supported: a
    non-missing value of the later one in sorted key order wins, which may differ from
    `flatten`'s choice.
    """
    payloads = list(payloads)
    n = len(payloads)
    values: dict[str, list[Any]] = {}
    types: dict[str, set[type]] = {}
    for start in range(0, n, CHUNK):
        chunk: dict[str, list[Any]] = {}
        chunk_types: dict[str, set[type]] = {}
        _columns_into(chunk, chunk_types, "", payloads[start : start + CHUNK])
        for name, col in chunk.items():
            whole = values.get(name)
            if whole is None:
                whole = values[name] = [None] * start
                types[name] = {_NONE_TYPE} if start else set()
            elif len(whole) < start:
                whole.extend([None] * (start - len(whole)))
                types[name].add(_NONE_TYPE)
            whole.extend(col)
            types[name].update(chunk_types[name])
    for name, whole in values.items():
        if len(whole) < n:
            whole.extend([None] * (n - len(whole)))
            types[name].add(_NONE_TYPE)
    return Columns(n, values, types)


_EMPTY: Mapping[str, Any] = {}
_NONE_TYPE = type(None)
_PLAIN_OR_NONE = frozenset({str, int, float, bool, _NONE_TYPE})


def _columns_into(
    columns: dict[str, list[Any]],
    types: dict[str, set[type]],
    prefix: str,
    objs: list[Any],
    all_dicts: bool | None = None,
) -> None:
    """objs: one Mapping per payload (empty where the payload has nothing here);
    all_dicts: whether they are all dicts, if known."""
    if all_dicts is None:
        all_dicts = set(map(type, objs)) == {dict}
    keys: set[Any] = set().union(*objs)
    for key in sorted(keys, key=lambda k: (type(k).__name__, str(k))):
        name = f"{prefix}{key}"
        col: list[Any] = (
            list(map(dict.get, objs, repeat(key))) if all_dicts else [o.get(key) for o in objs]
        )
        col_types = set(map(type, col))
        if col_types <= _PLAIN_OR_NONE:
            _add_column(columns, types, name, col, col_types)
            continue
        maps = {t for t in col_types if issubclass(t, Mapping)}
        seqs = {t for t in col_types if t not in maps and issubclass(t, list | tuple)}
        leaves = col_types - maps - seqs - {_NONE_TYPE}
        if leaves:
            leaf = [v if type(v) in leaves else None for v in col]
            _add_column(columns, types, name, leaf, set(map(type, leaf)))
        if seqs:
            if col_types == {list}:
                lengths: list[Any] = list(map(len, col))
            else:
                lengths = [len(v) if type(v) in seqs else None for v in col]
            _add_column(columns, types, name + LIST_SUFFIX, lengths, set(map(type, lengths)))
        if maps:
            if col_types == {dict}:
                _columns_into(columns, types, name + ".", col, True)
            else:
                inner = [v if type(v) in maps else _EMPTY for v in col]
                _columns_into(columns, types, name + ".", inner)


def _add_column(
    columns: dict[str, list[Any]],
    types: dict[str, set[type]],
    name: str,
    col: list[Any],
    col_types: set[type],
) -> None:
    old = columns.get(name)
    if old is None:
        columns[name] = col
        types[name] = col_types
    else:
        merged = [o if v is None else v for o, v in zip(old, col, strict=True)]
        columns[name] = merged
        types[name] = set(map(type, merged))


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
            if types is not None and types <= _CATEGORICAL_FAST:
                seen = Counter(col)
                seen.pop(None, None)  # type: ignore[call-overload]
            else:
                seen = Counter(v for v in col if isinstance(v, str))
            ranked = sorted(seen.items(), key=lambda item: (-item[1], item[0]))
            categories = [str(value) for value, _ in ranked[:max_categories]]
        features.append(FeatureInfo(name, kind, categories))
    return FeatureSpec(features)


def _kind_counts(col: list[Any], types: set[type] | None) -> Counter[Kind]:
    counts: Counter[Kind] = Counter()
    if types is not None:
        kinds = {_kind_of_type(t) for t in types if t is not _NONE_TYPE}
        if len(kinds) == 1 and None not in kinds:  # one kind and missing values: count them
            counts[kinds.pop()] = len(col) - col.count(None)  # type: ignore[index]
            return counts
    for value_type, count in Counter(map(type, col)).items():
        kind = _kind_of_type(value_type)
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


_NAN = math.nan
_NUMERIC_FAST = frozenset({int, float, _NONE_TYPE})
_BOOLEAN_FAST = frozenset({bool, _NONE_TYPE})
_CATEGORICAL_FAST = frozenset({str, _NONE_TYPE})


def _encode_column(info: FeatureInfo, values: Sequence[Any], types: set[type]) -> np.ndarray:
    """values: one per row, None for missing; types: a superset of their types."""
    n = len(values)
    if info.kind == "numeric":
        column: np.ndarray | None = None
        if types <= _NUMERIC_FAST:
            with contextlib.suppress(OverflowError):  # an int too large for a float
                column = np.array(values, dtype=np.float64)
        if column is None:
            column = np.fromiter(map(_as_number, values), dtype=np.float64, count=n)
        column[~np.isfinite(column)] = np.nan
        return column
    if info.kind == "boolean":
        if types <= _BOOLEAN_FAST:
            return np.array(values, dtype=np.float64)
        return np.fromiter(map(_as_boolean, values), dtype=np.float64, count=n)
    index = {c: float(i) for i, c in enumerate(info.categories)}
    if types <= _CATEGORICAL_FAST:
        return np.fromiter(map(index.get, values, repeat(_NAN)), dtype=np.float64, count=n)
    return np.fromiter(
        (index.get(v, _NAN) if isinstance(v, str) else _NAN for v in values),
        dtype=np.float64,
        count=n,
    )


def _as_number(value: Any) -> float:
    """Numbers (int and float, their subclasses, numpy's) count; bools and the rest are
    missing."""
    if _kind_of_type(type(value)) != "numeric":
        return _NAN
    try:
        return float(value)
    except (OverflowError, TypeError, ValueError):
        return _NAN


def _as_boolean(value: Any) -> float:
    if _kind_of_type(type(value)) != "boolean":
        return _NAN
    return 1.0 if value else 0.0


# ---------------------------------------------------------------- compact columns (training)

# What a flattened value is, per row: the kind it counts as (see `kind_of`), or none.
_K_NONE, _K_NUMERIC, _K_BOOLEAN, _K_CATEGORICAL = 0, 1, 2, 3
_KIND_CODE: dict[Kind, int] = {"numeric": 1, "boolean": 2, "categorical": 3}
_MERGE_EVERY = 16  # a field's pieces (one per CHUNK of rows) are merged 16 at a time


@dataclass
class _Piece:
    """One field over rows [start, start + len(values)): `kinds` per row (an int8 array,
    or one code for all of them) and `values`: the number (float64), 0/1 (int8) or the
    index of the string in the field's `strings` (int32); meaningless where the kind
    differs."""

    start: int
    kinds: np.ndarray | int
    values: np.ndarray

    def kinds_array(self) -> np.ndarray:
        if isinstance(self.kinds, np.ndarray):
            return self.kinds
        return np.full(len(self.values), self.kinds, dtype=np.int8)


@dataclass
class _Field:
    pieces: list[_Piece] = field(default_factory=list)
    strings: dict[Any, int] = field(default_factory=dict)  # string -> its index, first seen first
    merged: int = 0  # pieces[:merged] are merged already

    def merge(self) -> None:
        """Merge the recent pieces that follow one another (rows and dtype) into one."""
        recent = self.pieces[self.merged :]
        out: list[_Piece] = []
        run: list[_Piece] = []
        for piece in [*recent, None]:
            if run and (
                piece is None
                or piece.start != run[-1].start + len(run[-1].values)
                or piece.values.dtype != run[0].values.dtype
            ):
                out.append(_concatenate(run))
                run = []
            if piece is not None:
                run.append(piece)
        self.pieces[self.merged :] = out
        self.merged = len(self.pieces)


def _concatenate(run: list[_Piece]) -> _Piece:
    if len(run) == 1:
        return run[0]
    values = _mapped_concatenate([p.values for p in run])
    first = run[0].kinds
    if isinstance(first, int) and all(isinstance(p.kinds, int) and p.kinds == first for p in run):
        return _Piece(run[0].start, first, values)
    return _Piece(run[0].start, _mapped_concatenate([p.kinds_array() for p in run]), values)


_MAP_MIN_BYTES = 1 << 16


def _mapped_concatenate(arrays: list[np.ndarray]) -> np.ndarray:
    """np.concatenate, into an anonymous memory map of its own when large enough: when the
    builder releases its arrays the memory goes back to the system at once, where freed
    heap memory may stay with the process (the matrix then grows on top of it)."""
    n = sum(len(a) for a in arrays)
    dtype = arrays[0].dtype
    if n * dtype.itemsize < _MAP_MIN_BYTES:
        return np.concatenate(arrays)
    out = np.frombuffer(mmap.mmap(-1, n * dtype.itemsize), dtype=dtype, count=n)
    np.concatenate(arrays, out=out)
    return out


class ColumnBuilder:
    """Flattened payloads added in batches and packed into compact arrays as they come, so
    the payloads themselves need not all be in memory at once (the retraining job streams
    them from the database), then a spec and a matrix from them.

    The same features as `build_spec_from_columns` and `encode_columns` on
    `flatten_columns` of all the payloads (tests/ml/test_features.py checks the matrices
    are identical), at about 10 bytes per field and row rather than a Python list of
    objects per field: per row the kind of the value (numeric, boolean, categorical or
    none) and the value as a float64 number, an int8 0/1 or the int32 index of the string.
    """

    def __init__(self) -> None:
        self._packed = 0  # rows packed into pieces; the rest are pending
        self._fields: dict[str, _Field] = {}
        self._pending: list[Mapping[str, Any]] = []

    @property
    def n_rows(self) -> int:
        return self._packed + len(self._pending)

    def add(self, payloads: Sequence[Mapping[str, Any]]) -> None:
        """The next payloads (rows n_rows, n_rows + 1, ...): packed CHUNK at a time."""
        offset = 0
        if self._pending:
            offset = min(len(payloads), CHUNK - len(self._pending))
            self._pending.extend(payloads[:offset])
            if len(self._pending) < CHUNK:
                return
            self._pack(self._pending)
            self._pending = []
        n = len(payloads)
        while n - offset >= CHUNK:
            self._pack(payloads[offset : offset + CHUNK])
            offset += CHUNK
        self._pending = list(payloads[offset:])

    def _pack(self, payloads: Sequence[Mapping[str, Any]]) -> None:
        """Flatten one chunk of payloads and pack each of its fields into a _Piece."""
        columns: dict[str, list[Any]] = {}
        types: dict[str, set[type]] = {}
        _columns_into(columns, types, "", list(payloads))
        start = self._packed
        for name, col in columns.items():
            fld = self._fields.get(name)
            if fld is None:
                fld = self._fields[name] = _Field()
            fld.pieces.append(_pack_column(start, col, types[name], fld.strings))
            if len(fld.pieces) - fld.merged >= _MERGE_EVERY:
                fld.merge()
        self._packed = start + len(payloads)

    def _flush(self) -> None:
        if self._pending:
            self._pack(self._pending)
            self._pending = []

    def spec(
        self,
        rows: int | np.ndarray | None = None,
        max_categories: int = 100,
        min_presence: float = MIN_PRESENCE,
    ) -> FeatureSpec:
        """`build_spec_from_columns` on some of the rows: the first `rows` if an int, those
        where a boolean mask over all rows is true, all of them if None."""
        self._flush()
        mask: np.ndarray | None = None
        if rows is None:
            limit = self._packed
        elif isinstance(rows, np.ndarray):
            mask = np.asarray(rows, dtype=bool)
            if len(mask) != self._packed:
                raise ValueError(f"a mask of {len(mask)} rows for {self._packed}")
            limit = int(np.count_nonzero(mask))
        else:
            limit = min(int(rows), self._packed)
        threshold = max(1.0, min_presence * limit)
        features: list[FeatureInfo] = []
        for name in sorted(self._fields):
            fld = self._fields[name]
            counts = np.zeros(4, dtype=np.int64)
            string_counts = np.zeros(len(fld.strings), dtype=np.int64)
            for piece in fld.pieces:
                kinds, values = piece.kinds, piece.values
                if mask is not None:
                    selected = mask[piece.start : piece.start + len(values)]
                    values = values[selected]
                    if isinstance(kinds, np.ndarray):
                        kinds = kinds[selected]
                else:
                    stop = limit - piece.start
                    if stop <= 0:
                        continue
                    values = values[:stop]
                    if isinstance(kinds, np.ndarray):
                        kinds = kinds[:stop]
                if isinstance(kinds, np.ndarray):
                    counts += np.bincount(kinds, minlength=4)
                    if string_counts.size:
                        codes = values[kinds == _K_CATEGORICAL].astype(np.intp)
                        string_counts += np.bincount(codes, minlength=len(fld.strings))
                else:
                    counts[kinds] += len(values)
                    if kinds == _K_CATEGORICAL:
                        string_counts += np.bincount(values, minlength=len(fld.strings))
            if counts[1:].sum() < threshold:
                continue
            kind = max(KINDS, key=lambda k: (counts[_KIND_CODE[k]], -KINDS.index(k)))
            categories: list[str] = []
            if kind == "categorical":
                strings = list(fld.strings)
                ranked = sorted(
                    ((int(c), strings[i]) for i, c in enumerate(string_counts) if c > 0),
                    key=lambda item: (-item[0], item[1]),
                )
                categories = [str(s) for _, s in ranked[:max_categories]]
            features.append(FeatureInfo(name, kind, categories))
        return FeatureSpec(features)

    def encode(self, spec: FeatureSpec, *, release: bool = False) -> np.ndarray:
        """`encode_columns` for all the rows added: one C-ordered matrix. release=True
        drops each field's arrays once encoded (the builder is then empty)."""
        (out,) = self.encode_parts(spec, [0, self.n_rows], release=release, order="C")
        return out

    def encode_parts(
        self,
        spec: FeatureSpec,
        bounds: Sequence[int],
        *,
        release: bool = False,
        order: Literal["C", "F"] = "F",
    ) -> list[np.ndarray]:
        """The rows of `encode` cut at `bounds` (0 = b0 <= b1 <= ... = n_rows): one matrix
        per range [b_i, b_i+1), column-major by default. Column-major matrices are filled
        a column at a time, so with release=True the builder's arrays shrink as the
        matrices grow and the peak memory is little more than the matrices'; LightGBM
        also builds its Dataset faster from them, without a copy."""
        self._flush()
        n = self._packed
        if len(bounds) < 2 or bounds[0] != 0 or bounds[-1] != n or list(bounds) != sorted(bounds):
            raise ValueError(f"bounds {list(bounds)} do not cut rows 0..{n}")
        width = len(spec.features)
        parts = [
            np.full((hi - lo, width), np.nan, dtype=np.float64, order=order)
            if order == "C"
            else np.empty((hi - lo, width), dtype=np.float64, order=order)
            for lo, hi in itertools.pairwise(bounds)
        ]
        for j, info in enumerate(spec.features):
            if order == "F":
                for part in parts:
                    part[:, j] = np.nan
            fld = self._fields.get(info.name)
            if fld is None:
                continue
            code = _KIND_CODE[info.kind]
            lut: np.ndarray | None = None
            if info.kind == "categorical":
                index = {c: float(i) for i, c in enumerate(info.categories)}
                lut = np.fromiter(
                    (index.get(s, _NAN) if isinstance(s, str) else _NAN for s in fld.strings),
                    dtype=np.float64,
                    count=len(fld.strings),
                )
            for piece in fld.pieces:
                if isinstance(piece.kinds, int) and piece.kinds != code:
                    continue
                if lut is not None:
                    column = lut[_codes(piece)] if len(lut) else np.full(len(piece.values), _NAN)
                else:
                    column = piece.values.astype(np.float64)
                if isinstance(piece.kinds, np.ndarray):
                    column[piece.kinds != code] = _NAN
                if info.kind == "numeric":
                    column[~np.isfinite(column)] = _NAN
                first, last = piece.start, piece.start + len(column)
                for part, (lo, hi) in zip(parts, itertools.pairwise(bounds), strict=True):
                    if first < hi and lo < last:
                        a, b = max(first, lo), min(last, hi)
                        part[a - lo : b - lo, j] = column[a - first : b - first]
            if release:
                fld.pieces = []
        if release:
            self._fields = {}
        return parts


def _codes(piece: _Piece) -> np.ndarray:
    """The string indices of a piece, 0 where the value is not a string."""
    if piece.values.dtype == np.int32:
        return piece.values
    return np.where(piece.kinds_array() == _K_CATEGORICAL, piece.values, 0).astype(np.intp)


def _pack_column(start: int, col: list[Any], types: set[type], strings: dict[Any, int]) -> _Piece:
    """One field's values for consecutive rows (`types`: a superset of their types) as a
    _Piece; new strings join `strings`."""
    n = len(col)
    if types <= _NUMERIC_FAST:
        try:
            values = np.array(col, dtype=np.float64)
        except OverflowError:  # an int too large for a float
            return _pack_generic(start, col, strings)
        missing = np.isnan(values)
        if not missing.any():
            return _Piece(start, _K_NUMERIC, values)
        if all(col[i] is None for i in np.flatnonzero(missing).tolist()):  # NaN only for None
            return _Piece(start, np.where(missing, _K_NONE, _K_NUMERIC).astype(np.int8), values)
        return _pack_generic(start, col, strings)
    if types <= _BOOLEAN_FAST:
        if _NONE_TYPE not in types:
            return _Piece(start, _K_BOOLEAN, np.array(col, dtype=np.int8))
        floats = np.array(col, dtype=np.float64)  # None -> NaN
        missing = np.isnan(floats)
        kinds = np.where(missing, _K_NONE, _K_BOOLEAN).astype(np.int8)
        return _Piece(start, kinds, np.where(missing, 0, floats).astype(np.int8))
    if types <= _CATEGORICAL_FAST:
        new = set(col)
        new.discard(None)
        new.difference_update(strings)
        for s in sorted(new):  # sorted: the same indices whatever the set's order
            strings[s] = len(strings)
        codes = np.fromiter(map(strings.get, col, repeat(-1)), dtype=np.int32, count=n)
        missing = codes < 0
        if not missing.any():
            return _Piece(start, _K_CATEGORICAL, codes)
        codes[missing] = 0
        return _Piece(start, np.where(missing, _K_NONE, _K_CATEGORICAL).astype(np.int8), codes)
    return _pack_generic(start, col, strings)


def _pack_generic(start: int, col: list[Any], strings: dict[Any, int]) -> _Piece:
    """Any values, one at a time: as `_as_number`, `_as_boolean` and the categorical
    look-up in `_encode_column` would see them."""
    n = len(col)
    kinds = np.zeros(n, dtype=np.int8)
    values = np.zeros(n, dtype=np.float64)
    kind_of_type: dict[type, int] = {}
    for i, value in enumerate(col):
        value_type = type(value)
        code = kind_of_type.get(value_type)
        if code is None:
            kind = _kind_of_type(value_type)
            code = kind_of_type[value_type] = _K_NONE if kind is None else _KIND_CODE[kind]
        kinds[i] = code
        if code == _K_NUMERIC:
            try:
                values[i] = float(value)
            except (OverflowError, TypeError, ValueError):
                values[i] = _NAN
        elif code == _K_BOOLEAN:
            values[i] = 1.0 if value else 0.0
        elif code == _K_CATEGORICAL:
            index = strings.get(value)
            if index is None:
                index = strings[value] = len(strings)
            values[i] = index
    return _Piece(start, kinds, values)
