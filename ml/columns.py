"""Payloads flattened: one payload to a dict of dotted names (`flatten`), many payloads
to columns (`flatten_columns`), the same way.

Nested objects become dotted names ("owner.age"), None is missing, and a list is not
encoded element by element but recorded as one numeric field, its length
("tags.length"), so "how many" is learnable while the contents (usually free text or
ids) are not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any

LIST_SUFFIX = ".length"
CHUNK = 2048  # payloads per pass: small enough that a chunk's dicts stay in the CPU cache
NONE_TYPE = type(None)
NUMERIC_OR_NONE = frozenset({int, float, NONE_TYPE})
"""Value types of a column that is plain numbers (and missing values)."""
BOOLEAN_OR_NONE = frozenset({bool, NONE_TYPE})
"""Value types of a column that is plain booleans (and missing values)."""
STRING_OR_NONE = frozenset({str, NONE_TYPE})
"""Value types of a column that is plain strings (and missing values)."""


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
        columns_into(chunk, chunk_types, "", payloads[start : start + CHUNK])
        for name, col in chunk.items():
            whole = values.get(name)
            if whole is None:
                whole = values[name] = [None] * start
                types[name] = {NONE_TYPE} if start else set()
            elif len(whole) < start:
                whole.extend([None] * (start - len(whole)))
                types[name].add(NONE_TYPE)
            whole.extend(col)
            types[name].update(chunk_types[name])
    for name, whole in values.items():
        if len(whole) < n:
            whole.extend([None] * (n - len(whole)))
            types[name].add(NONE_TYPE)
    return Columns(n, values, types)


_EMPTY: Mapping[str, Any] = {}
_PLAIN_OR_NONE = frozenset({str, int, float, bool, NONE_TYPE})


def columns_into(
    columns: dict[str, list[Any]],
    types: dict[str, set[type]],
    prefix: str,
    objs: list[Any],
    all_dicts: bool | None = None,
) -> None:
    """Add the flattened columns of these objects under `prefix` to `columns` and `types`.

    objs: one Mapping per payload (empty where the payload has nothing here);
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
        leaves = col_types - maps - seqs - {NONE_TYPE}
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
                columns_into(columns, types, name + ".", col, True)
            else:
                inner = [v if type(v) in maps else _EMPTY for v in col]
                columns_into(columns, types, name + ".", inner)


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
