"""Payload conditions of a theme (step 5): what its items have that the contrast lacks.

The contrast is the payloads of the workflow's other decided items or, when there are
none, the overrides outside the theme. Kinds: "field = value" (the theme's commonest
value), "field != value" (the contrast's usual value, held by at least half of it, when
the theme mostly lacks it; not for two-valued fields), "field < t" / "field > t"
(numeric fields: see ml.themes.thresholds). A condition is kept only when it holds for
`min_support` of the theme and `min_count` items, with `min_lift` over the contrast and
a one-sided Fisher exact p below `alpha` / (conditions tried x clusters). A free-text
field gets no "=" or "!=" but "text mentions bitcoin, btc or eth" (ml.themes.text).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import hypergeom

from ml.themes.payloads import Column, PayloadTable
from ml.themes.settings import ThemeSettings
from ml.themes.text import Mentions, distinguishing, mentions, text_fields
from ml.themes.thresholds import best_cut, render_number


@dataclass(frozen=True)
class Condition:
    """A reported condition and its evidence."""

    field: str
    op: str  # "=", "!=", "<", ">", "mentions"
    # int code for = / !=, float threshold for < / >, for "mentions" a bool per
    # category code whose last entry (code -1: missing) is False
    value: Any
    text: str  # "company_age_years < 2"
    support: float  # share of the theme's items satisfying it
    base: float  # share of the contrast satisfying it
    lift: float  # support / base
    p: float  # one-sided Fisher exact p
    words: tuple[str, ...] = ()  # "mentions": the words, as written
    word_support: tuple[float, ...] = ()  # "mentions": share of the theme mentioning each

    def holds(self, values: np.ndarray) -> np.ndarray:
        """Per value of this field's column: whether the condition holds."""
        if self.op == "mentions":
            return np.asarray(self.value[values], dtype=bool)
        if self.op == "=":
            return values == self.value
        if self.op == "!=":
            return (values != self.value) & (values >= 0)
        with np.errstate(invalid="ignore"):
            if self.op == "<":
                return values < self.value
            return values > self.value


@dataclass(frozen=True)
class _Candidate:
    """A condition before its test: how many theme and contrast items satisfy it."""

    field: str
    op: str
    value: Any
    text: str
    inside: int
    outside: int
    n_out: int


def fisher_greater(a: int, m: int, b: int, n_out: int) -> float:
    """One-sided Fisher exact test: P(at least a of the m theme items satisfy) when
    the a + b satisfying items are spread at random over m + n_out items."""
    if a <= 0:
        return 1.0
    return float(hypergeom.sf(a - 1, m + n_out, a + b, m))


class Contrast:
    """What a theme's items are compared with: the other decided items' payloads,
    or, without any, the overrides outside the theme. `family`: how many themes are
    tried (the Bonferroni factor across themes)."""

    def __init__(
        self,
        table: PayloadTable,
        n_overrides: int,
        n_others: int,
        family: int,
        settings: ThemeSettings,
    ):
        self.family = family
        self.table = table
        self.settings = settings
        self.n_overrides = n_overrides
        self.use_others = n_others > 0
        self.sorted_out: dict[str, np.ndarray] = {}
        self.texts = text_fields(table)
        self._text_names = {t.name for t in self.texts}
        if self.use_others:
            for col in table.columns:
                if col.numeric:
                    x = col.outside
                    self.sorted_out[col.name] = np.sort(x[~np.isnan(x)])

    def outside(self, col: Column, members: np.ndarray) -> np.ndarray:
        """The column's values over the contrast of these members."""
        if self.use_others:
            return col.outside
        mask = np.ones(self.n_overrides, dtype=bool)
        mask[members] = False
        return col.inside[mask]

    def _sorted_outside(self, col: Column, members: np.ndarray) -> np.ndarray:
        if self.use_others:
            return self.sorted_out[col.name]
        x = self.outside(col, members)
        return np.sort(x[~np.isnan(x)])

    def conditions(self, members: np.ndarray) -> list[Condition]:
        """The conditions of the theme of these override indices, highest lift first."""
        s = self.settings
        m = len(members)
        if m < s.min_count:
            return []
        candidates: list[_Candidate] = []
        tried = 0
        for col in self.table.columns:
            if col.name in self._text_names:
                continue
            xin = col.inside[members]
            xout = self.outside(col, members)
            if len(xout) == 0:
                continue
            if col.numeric:
                tried += 2
                cut = best_cut(xin, self._sorted_outside(col, members), len(xout), s)
                if cut is not None:
                    text = f"{col.name} {cut.op} {render_number(cut.threshold)}"
                    candidates.append(
                        _Candidate(
                            col.name,
                            cut.op,
                            cut.threshold,
                            text,
                            cut.inside,
                            cut.outside,
                            len(xout),
                        )
                    )
                continue
            found, tries = self._categorical(col, xin, xout, m)
            tried += tries
            candidates += found
        alpha = s.alpha / (max(1, tried) * self.family)
        out: list[Condition] = []
        for c in candidates:
            support = c.inside / m
            base = c.outside / c.n_out
            if c.inside < s.min_count or support < s.min_support:
                continue
            lift = support / base if base > 0 else math.inf
            if lift < s.min_lift:
                continue
            p = fisher_greater(c.inside, m, c.outside, c.n_out)
            if p >= alpha:
                continue
            out.append(Condition(c.field, c.op, c.value, c.text, support, base, lift, p))
        out += self.text_conditions(members)
        out.sort(key=lambda c: (-min(c.lift, 1e9), c.p, c.text))
        return out[: s.max_conditions]

    def _rest(self, members: np.ndarray) -> np.ndarray | None:
        """The overrides outside the theme when they are the contrast (else None)."""
        if self.use_others:
            return None
        mask = np.ones(self.n_overrides, dtype=bool)
        mask[members] = False
        return np.flatnonzero(mask)

    def distinguishing(self, members: np.ndarray) -> dict[str, np.ndarray]:
        """Per free-text field, the words these members' texts mention far more often
        than the contrast's (ml.themes.text.distinguishing)."""
        rest = self._rest(members)
        return {f.name: distinguishing(f, members, rest, self.settings) for f in self.texts}

    def text_conditions(self, members: np.ndarray) -> list[Condition]:
        """The theme's "mentions" conditions, one per text field at most, each tested as
        the others are but Bonferroni-divided by the words it could have chosen."""
        s = self.settings
        m = len(members)
        rest = self._rest(members)
        out: list[Condition] = []
        for field in self.texts:
            found = mentions(field, members, rest, s)
            if found is None or not self._passes(found, m):
                continue
            support, base = found.inside / m, found.outside / found.n_out
            out.append(
                Condition(
                    field.name,
                    "mentions",
                    field.mask(np.array(found.chosen)),
                    found.text,
                    support,
                    base,
                    support / base if base > 0 else math.inf,
                    fisher_greater(found.inside, m, found.outside, found.n_out),
                    found.words,
                    tuple(k / m for k in found.word_inside),
                )
            )
        return out

    def _passes(self, found: Mentions, m: int) -> bool:
        s = self.settings
        support, base = found.inside / m, found.outside / found.n_out
        if found.inside < s.min_count or support < s.min_support:
            return False
        if base > 0 and support / base < s.min_lift:
            return False
        alpha = s.alpha / (found.tried * self.family)
        return fisher_greater(found.inside, m, found.outside, found.n_out) < alpha

    def _categorical(
        self, col: Column, xin: np.ndarray, xout: np.ndarray, m: int
    ) -> tuple[list[_Candidate], int]:
        """The "=" or "!=" candidate of a categorical column, and how many were tried."""
        n_out = len(xout)
        codes_in = xin[xin >= 0]
        if len(codes_in) == 0:
            return [], 0
        counts = np.bincount(codes_in, minlength=len(col.levels))
        mode = int(np.argmax(counts))
        a = int(counts[mode])
        b = int(np.count_nonzero(xout == mode))
        if a >= self.settings.min_support * m:
            text = f"{col.name} = {col.levels[mode]}"
            return [_Candidate(col.name, "=", mode, text, a, b, n_out)], 1
        if len(col.levels) <= 2:
            return [], 1
        codes_out = xout[xout >= 0]
        if len(codes_out) == 0:
            return [], 1
        usual = int(np.argmax(np.bincount(codes_out, minlength=len(col.levels))))
        if np.count_nonzero(codes_out == usual) < 0.5 * n_out:
            return [], 2
        a = int(np.count_nonzero((xin != usual) & (xin >= 0)))
        b = int(np.count_nonzero((xout != usual) & (xout >= 0)))
        text = f"{col.name} != {col.levels[usual]}"
        return [_Candidate(col.name, "!=", usual, text, a, b, n_out)], 2

    def conjunction_rate_outside(
        self, conds: Sequence[Condition], members: np.ndarray
    ) -> tuple[int, int]:
        """How many contrast items satisfy all of conds, of how many."""
        mask: np.ndarray | None = None
        n = 0
        for c in conds:
            col = self.table.by_name[c.field]
            h = c.holds(self.outside(col, members))
            n = len(h)
            mask = h if mask is None else mask & h
        return (int(mask.sum()) if mask is not None else 0), n

    def holding(self, conds: Sequence[Condition], members: np.ndarray) -> list[np.ndarray]:
        """Per condition, whether it holds for each of these override indices."""
        return [c.holds(self.table.by_name[c.field].inside[members]) for c in conds]
