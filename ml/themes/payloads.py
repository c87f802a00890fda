"""The payloads of the overrides and of the contrast, flattened and encoded by field.

Payloads are flattened as the model's features are (ml.columns.flatten: a list as its
"<name>.length"), so that a theme's fields and the model's features have the same names.

A numeric field (nearly all its values numbers) is a float column, NaN where missing;
any other field a column of category codes, -1 where missing.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

import numpy as np

from ml.columns import flatten
from ml.themes.settings import ThemeSettings

_SCALAR_TYPES = frozenset({str, int, float, bool})
_NUMBER_TYPES = (int, float)
_NONE_TYPE = type(None)
_FLOAT_OR_INT = frozenset({int, float})


def _is_number(value: Any) -> bool:
    return type(value) in _NUMBER_TYPES or (
        isinstance(value, int | float) and not isinstance(value, bool)
    )


def _is_number_type(value_type: type) -> bool:
    """`_is_number` of a value of this type."""
    return value_type in _FLOAT_OR_INT or (
        issubclass(value_type, int | float) and not issubclass(value_type, bool)
    )


def _category(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _numbers(values: list[Any], types: Collection[type]) -> np.ndarray:
    """Numbers as floats, anything else (None included) NaN."""
    if set(types) <= _FLOAT_OR_INT:  # None aside: np.array makes None NaN
        return np.array(values, dtype=float)
    nan = math.nan
    return np.array([v if _is_number(v) else nan for v in values], dtype=float)


def _codes(values: list[Any], codes: dict[str, int], only_strings: bool) -> np.ndarray:
    """Category codes (new categories join `codes` in order of appearance), -1 for None."""
    if only_strings:  # None aside; _category(s) is s for a str
        for v in dict.fromkeys(values):
            if v is not None and v not in codes:
                codes[v] = len(codes)
        return np.fromiter(map(codes.get, values, repeat(-1)), dtype=np.int64, count=len(values))
    return np.array(
        [-1 if v is None else codes.setdefault(_category(v), len(codes)) for v in values],
        dtype=np.int64,
    )


@dataclass
class Column:
    """One flattened payload field over the overrides (`inside`) and the contrast
    (`outside`): floats (NaN missing) when numeric, else codes into `levels` (-1 missing)."""

    name: str
    numeric: bool
    inside: np.ndarray
    outside: np.ndarray
    levels: list[str] = field(default_factory=list)


class PayloadTable:
    """The flattened payloads of the overrides and of the contrast, by column: the
    `settings.max_fields` fields present in the most overrides, sorted by name."""

    def __init__(
        self,
        overrides: Sequence[Mapping[str, Any]],
        others: Sequence[Mapping[str, Any]],
        settings: ThemeSettings,
    ):
        flat_in = [flatten(p) if isinstance(p, Mapping) else {} for p in overrides]
        flat_out = [flatten(p) if isinstance(p, Mapping) else {} for p in others]
        presence: Counter[str] = Counter()
        for row in flat_in:
            presence.update(row.keys())
        names = sorted(presence, key=lambda k: (-presence[k], k))[: settings.max_fields]
        self.columns: list[Column] = [
            _column(
                name,
                list(map(dict.get, flat_in, repeat(name))),
                list(map(dict.get, flat_out, repeat(name))),
                settings.numeric_majority,
            )
            for name in sorted(names)
        ]
        self.by_name = {c.name: c for c in self.columns}


def _column(
    name: str, values_in: list[Any], values_out: list[Any], numeric_majority: float
) -> Column:
    # Counted by type: whether a value is a number depends on its type only.
    by_type = Counter(map(type, values_in))
    by_type.update(map(type, values_out))
    present = by_type.total() - by_type.pop(_NONE_TYPE, 0)
    numbers = sum(k for t, k in by_type.items() if _is_number_type(t))
    if present and numbers >= numeric_majority * present:
        return Column(
            name, True, _numbers(values_in, by_type.keys()), _numbers(values_out, by_type.keys())
        )
    codes: dict[str, int] = {}
    only_strings = by_type.keys() <= {str}
    inside = _codes(values_in, codes, only_strings)
    outside = _codes(values_out, codes, only_strings)
    return Column(name, False, inside, outside, list(codes))
