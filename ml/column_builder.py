"""The training path's featurisation: payloads added in batches, packed as they come
(ml.column_pieces), then a spec and matrices from them."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp

from ml.column_pieces import K_CATEGORICAL, KIND_CODE, FieldPieces, pack_column, string_codes
from ml.columns import CHUNK, columns_into
from ml.features import KINDS, MIN_PRESENCE, NAN, FeatureInfo, FeatureSpec
from ml.text_columns import TEXT_N_HASH, is_free_text, strings_block

_MERGE_EVERY = 16  # a field's pieces (one per CHUNK of rows) are merged 16 at a time


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
        self._fields: dict[str, FieldPieces] = {}
        self._pending: list[Mapping[str, Any]] = []

    @property
    def n_rows(self) -> int:
        """The rows added so far."""
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
        """Flatten one chunk of payloads and pack each of its fields into a Piece."""
        columns: dict[str, list[Any]] = {}
        types: dict[str, set[type]] = {}
        columns_into(columns, types, "", list(payloads))
        start = self._packed
        for name, col in columns.items():
            fld = self._fields.get(name)
            if fld is None:
                fld = self._fields[name] = FieldPieces()
            fld.pieces.append(pack_column(start, col, types[name], fld.strings))
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
        *,
        text: bool = True,
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
                        codes = values[kinds == K_CATEGORICAL].astype(np.intp)
                        string_counts += np.bincount(codes, minlength=len(fld.strings))
                else:
                    counts[kinds] += len(values)
                    if kinds == K_CATEGORICAL:
                        string_counts += np.bincount(values, minlength=len(fld.strings))
            if counts[1:].sum() < threshold:
                continue
            kind = max(KINDS, key=lambda k: (counts[KIND_CODE[k]], -KINDS.index(k)))
            categories: list[str] = []
            if kind == "categorical":
                strings = list(fld.strings)
                if text and is_free_text(zip(strings, string_counts.tolist(), strict=True)):
                    features.append(FeatureInfo(name, "text", n_hash=TEXT_N_HASH))
                    continue
                ranked = sorted(
                    ((int(c), strings[i]) for i, c in enumerate(string_counts) if c > 0),
                    key=lambda item: (-item[0], item[1]),
                )
                categories = [str(s) for _, s in ranked[:max_categories]]
            features.append(FeatureInfo(name, kind, categories))
        return FeatureSpec(features)

    def encode(self, spec: FeatureSpec, *, release: bool = False) -> np.ndarray:
        """`encode_columns` for all the rows added: one C-ordered matrix (CSR if the spec
        has text fields). release=True drops each field's arrays once encoded (the builder
        is then empty)."""
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
        also builds its Dataset faster from them, without a copy.

        With text fields the matrices are CSR instead (the text columns are mostly zeros):
        the other features' columns, then each text field's block, as `encode_columns`."""
        self._flush()
        n = self._packed
        if len(bounds) < 2 or bounds[0] != 0 or bounds[-1] != n or list(bounds) != sorted(bounds):
            raise ValueError(f"bounds {list(bounds)} do not cut rows 0..{n}")
        ranges = spec.column_ranges()
        width = sum(f.kind != "text" for f in spec.features)
        texts: list[sp.csr_matrix] = []
        parts = [
            np.full((hi - lo, width), np.nan, dtype=np.float64, order=order)
            if order == "C"
            else np.empty((hi - lo, width), dtype=np.float64, order=order)
            for lo, hi in itertools.pairwise(bounds)
        ]
        for info, (j, _) in zip(spec.features, ranges, strict=True):
            if info.kind == "text":
                texts.append(self._text_rows(info))
                if release:
                    self._fields.pop(info.name, None)
                continue
            if order == "F":
                for part in parts:
                    part[:, j] = np.nan
            fld = self._fields.get(info.name)
            if fld is None:
                continue
            code = KIND_CODE[info.kind]
            lut: np.ndarray | None = None
            if info.kind == "categorical":
                index = {c: float(i) for i, c in enumerate(info.categories)}
                lut = np.fromiter(
                    (index.get(s, NAN) if isinstance(s, str) else NAN for s in fld.strings),
                    dtype=np.float64,
                    count=len(fld.strings),
                )
            for piece in fld.pieces:
                if isinstance(piece.kinds, int) and piece.kinds != code:
                    continue
                if lut is not None:
                    column = (
                        lut[string_codes(piece)] if len(lut) else np.full(len(piece.values), NAN)
                    )
                else:
                    column = piece.values.astype(np.float64)
                if isinstance(piece.kinds, np.ndarray):
                    column[piece.kinds != code] = NAN
                if info.kind == "numeric":
                    column[~np.isfinite(column)] = NAN
                first, last = piece.start, piece.start + len(column)
                for part, (lo, hi) in zip(parts, itertools.pairwise(bounds), strict=True):
                    if first < hi and lo < last:
                        a, b = max(first, lo), min(last, hi)
                        part[a - lo : b - lo, j] = column[a - first : b - first]
            if release:
                fld.pieces = []
        if release:
            self._fields = {}
        if not texts:
            return parts
        return [
            sp.hstack([sp.csr_matrix(part), *(t[lo:hi] for t in texts)], format="csr")
            for part, (lo, hi) in zip(parts, itertools.pairwise(bounds), strict=True)
        ]

    def _text_rows(self, info: FeatureInfo) -> sp.csr_matrix:
        """A text field's block for all the rows (ml.text_columns.strings_block)."""
        strings, codes = self.strings(info.name)
        return strings_block(strings, codes, info.n_hash, info.text_model)

    def strings(self, name: str) -> tuple[list[str], np.ndarray]:
        """A field's distinct strings and, per row, the index of its string or -1 (not a
        string, or missing)."""
        self._flush()
        codes = np.full(self._packed, -1, dtype=np.intp)
        fld = self._fields.get(name)
        if fld is None:
            return [], codes
        for piece in fld.pieces:
            stop = piece.start + len(piece.values)
            is_string = piece.kinds_array() == K_CATEGORICAL
            codes[piece.start : stop] = np.where(is_string, string_codes(piece), -1)
        return [str(s) for s in fld.strings], codes
