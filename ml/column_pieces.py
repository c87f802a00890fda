"""One field of many payloads packed into compact arrays, a piece per chunk of rows: per
row the kind of its value (numeric, boolean, categorical or none) and the value as a
float64 number, an int8 0/1 or the int32 index of the string. What `ColumnBuilder`
(ml.column_builder) keeps instead of Python lists of objects.
"""

from __future__ import annotations

import mmap
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

import numpy as np

from ml.columns import BOOLEAN_OR_NONE, NONE_TYPE, NUMERIC_OR_NONE, STRING_OR_NONE
from ml.features import NAN, Kind, kind_of_type

# What a flattened value is, per row: the kind it counts as (see `kind_of`), or none.
K_NONE, K_NUMERIC, K_BOOLEAN, K_CATEGORICAL = 0, 1, 2, 3
KIND_CODE: dict[Kind, int] = {"numeric": 1, "boolean": 2, "categorical": 3}


@dataclass
class Piece:
    """One field over rows [start, start + len(values)): `kinds` per row (an int8 array,
    or one code for all of them) and `values`: the number (float64), 0/1 (int8) or the
    index of the string in the field's `strings` (int32); meaningless where the kind
    differs."""

    start: int
    kinds: np.ndarray | int
    values: np.ndarray

    def kinds_array(self) -> np.ndarray:
        """`kinds` as an array, one code per row."""
        if isinstance(self.kinds, np.ndarray):
            return self.kinds
        return np.full(len(self.values), self.kinds, dtype=np.int8)


@dataclass
class FieldPieces:
    """The pieces of one field, in row order, and the strings they index."""

    pieces: list[Piece] = field(default_factory=list)
    strings: dict[Any, int] = field(default_factory=dict)  # string -> its index, first seen first
    merged: int = 0  # pieces[:merged] are merged already

    def merge(self) -> None:
        """Merge the recent pieces that follow one another (rows and dtype) into one."""
        recent = self.pieces[self.merged :]
        out: list[Piece] = []
        run: list[Piece] = []
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


def _concatenate(run: list[Piece]) -> Piece:
    if len(run) == 1:
        return run[0]
    values = _mapped_concatenate([p.values for p in run])
    first = run[0].kinds
    if isinstance(first, int) and all(isinstance(p.kinds, int) and p.kinds == first for p in run):
        return Piece(run[0].start, first, values)
    return Piece(run[0].start, _mapped_concatenate([p.kinds_array() for p in run]), values)


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


def string_codes(piece: Piece) -> np.ndarray:
    """The string indices of a piece, 0 where the value is not a string."""
    if piece.values.dtype == np.int32:
        return piece.values
    return np.where(piece.kinds_array() == K_CATEGORICAL, piece.values, 0).astype(np.intp)


def pack_column(start: int, col: list[Any], types: set[type], strings: dict[Any, int]) -> Piece:
    """One field's values for consecutive rows (`types`: a superset of their types) as a
    Piece; new strings join `strings`."""
    n = len(col)
    if types <= NUMERIC_OR_NONE:
        try:
            values = np.array(col, dtype=np.float64)
        except OverflowError:  # an int too large for a float
            return _pack_generic(start, col, strings)
        missing = np.isnan(values)
        if not missing.any():
            return Piece(start, K_NUMERIC, values)
        if all(col[i] is None for i in np.flatnonzero(missing).tolist()):  # NaN only for None
            return Piece(start, np.where(missing, K_NONE, K_NUMERIC).astype(np.int8), values)
        return _pack_generic(start, col, strings)
    if types <= BOOLEAN_OR_NONE:
        if NONE_TYPE not in types:
            return Piece(start, K_BOOLEAN, np.array(col, dtype=np.int8))
        floats = np.array(col, dtype=np.float64)  # None -> NaN
        missing = np.isnan(floats)
        kinds = np.where(missing, K_NONE, K_BOOLEAN).astype(np.int8)
        return Piece(start, kinds, np.where(missing, 0, floats).astype(np.int8))
    if types <= STRING_OR_NONE:
        new = set(col)
        new.discard(None)
        new.difference_update(strings)
        for s in sorted(new):  # sorted: the same indices whatever the set's order
            strings[s] = len(strings)
        codes = np.fromiter(map(strings.get, col, repeat(-1)), dtype=np.int32, count=n)
        missing = codes < 0
        if not missing.any():
            return Piece(start, K_CATEGORICAL, codes)
        codes[missing] = 0
        return Piece(start, np.where(missing, K_NONE, K_CATEGORICAL).astype(np.int8), codes)
    return _pack_generic(start, col, strings)


def _pack_generic(start: int, col: list[Any], strings: dict[Any, int]) -> Piece:
    """Any values, one at a time: as ml.features' encoding of a column would see them
    (numbers, booleans, strings; anything else missing)."""
    n = len(col)
    kinds = np.zeros(n, dtype=np.int8)
    values = np.zeros(n, dtype=np.float64)
    code_of_type: dict[type, int] = {}
    for i, value in enumerate(col):
        value_type = type(value)
        code = code_of_type.get(value_type)
        if code is None:
            kind = kind_of_type(value_type)
            code = code_of_type[value_type] = K_NONE if kind is None else KIND_CODE[kind]
        kinds[i] = code
        if code == K_NUMERIC:
            try:
                values[i] = float(value)
            except (OverflowError, TypeError, ValueError):
                values[i] = NAN
        elif code == K_BOOLEAN:
            values[i] = 1.0 if value else 0.0
        elif code == K_CATEGORICAL:
            index = strings.get(value)
            if index is None:
                index = strings[value] = len(strings)
            values[i] = index
    return Piece(start, kinds, values)
