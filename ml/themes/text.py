"""Text conditions (step 5): the words a theme's items' free text mentions, the contrast's rarely.

A payload field is free text by the classifier's own rule (ml.text_columns.is_free_text,
over the field's string values in the overrides and the contrast), so a theme's
suggestion and the model agree on what a text field is. Each text is read as its
words (ml.text.tokens: lowercased, stop words and numbers out, lightly stemmed), and a
word counts once per item.

A theme's condition on a text field is "text mentions bitcoin, btc or eth", found by:

1. candidate words: in at least `min_count` of the theme's items and `text_word_share`
   of them, and `text_word_lift` times as common there as in the contrast;
2. the words, greedily: each time the candidate that most raises the share of the
   theme's items mentioning one of the words chosen minus that share of the contrast
   (Youden's J), while it raises it by at least `text_min_gain`, at most
   `text_max_words` words;
3. the condition, tested as every other (`min_support`, `min_count`, `min_lift`, Fisher
   below `alpha`), Bonferroni-divided by the words that could have been chosen (those in
   `min_count` of the theme's items) and by the clusters.

Its value is a mask over the field's categories (each distinct text; the last entry,
for a missing text, False), so that it holds on a column of codes like the others do.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ml.text import NUM, tokens_with_surface
from ml.text_columns import is_free_text
from ml.themes.payloads import Column, PayloadTable
from ml.themes.settings import ThemeSettings


@dataclass(frozen=True)
class TextField:
    """One free-text field: which words each of its texts (categories) mentions."""

    name: str
    words: list[str]  # as written most often
    by_level: sp.csr_matrix  # categories (+ one empty row: missing) x words, 0/1
    inside: sp.csr_matrix  # overrides x words
    outside: sp.csr_matrix  # contrast x words
    outside_count: np.ndarray  # per word: contrast items mentioning it
    usual: np.ndarray  # per word: share of the contrast (without one: of the overrides)

    def mask(self, chosen: np.ndarray) -> np.ndarray:
        """Per category code (the last entry: missing), whether its text mentions one
        of the `chosen` word indices."""
        return np.asarray(self.by_level[:, chosen].sum(axis=1)).ravel() > 0


@dataclass(frozen=True)
class Mentions:
    """A text condition before its test: the words, and how many items mention one."""

    field: TextField
    chosen: list[int]  # word indices, in the order chosen
    word_inside: list[int]  # per chosen word: theme items mentioning it
    inside: int
    outside: int
    n_out: int
    tried: int  # the words that could have been chosen (the Bonferroni factor)

    @property
    def words(self) -> tuple[str, ...]:
        """The chosen words as written."""
        return tuple(self.field.words[k] for k in self.chosen)

    @property
    def text(self) -> str:
        """ "text mentions bitcoin, btc or eth"."""
        return f"{self.field.name} mentions {either(list(self.words))}"


def either(words: list[str]) -> str:
    """ "a", "a or b", "a, b or c"."""
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " or " + words[-1]


def text_fields(table: PayloadTable) -> list[TextField]:
    """The free-text fields among the table's categorical columns."""
    return [_text_field(col) for col in table.columns if _is_text(col)]


def _is_text(col: Column) -> bool:
    if col.numeric or not col.levels:
        return False
    counts = np.bincount(col.inside[col.inside >= 0], minlength=len(col.levels))
    counts += np.bincount(col.outside[col.outside >= 0], minlength=len(col.levels))
    return is_free_text(zip(col.levels, counts.tolist(), strict=True))


def _text_field(col: Column) -> TextField:
    index: dict[str, int] = {}
    # per word, how it was written: in how many overrides, then in how many texts
    written: list[Counter[tuple[str, str]]] = []
    overrides = np.bincount(col.inside[col.inside >= 0], minlength=len(col.levels))
    indptr = [0]
    indices: list[int] = []
    for level, weight in zip(col.levels, overrides.tolist(), strict=True):
        seen: set[int] = set()
        for token, raw in tokens_with_surface(level):
            if token == NUM:
                continue
            k = index.setdefault(token, len(index))
            if k == len(written):
                written.append(Counter())
            written[k][raw, "overrides"] += weight
            written[k][raw, "texts"] += 1
            seen.add(k)
        indices.extend(sorted(seen))
        indptr.append(len(indices))
    indptr.append(len(indices))  # the missing text: no word
    by_level = sp.csr_matrix(
        (np.ones(len(indices)), indices, indptr), shape=(len(col.levels) + 1, len(index))
    )
    missing = len(col.levels)
    inside = by_level[np.where(col.inside >= 0, col.inside, missing)]
    outside = by_level[np.where(col.outside >= 0, col.outside, missing)]
    words = [_written(w) for w in written]
    count = np.asarray(outside.sum(axis=0)).ravel()
    if outside.shape[0]:
        usual = count / outside.shape[0]
    else:
        usual = np.asarray(inside.sum(axis=0)).ravel() / max(1, inside.shape[0])
    return TextField(col.name, words, by_level, inside, outside, count, usual)


def _written(counts: Counter[tuple[str, str]]) -> str:
    """The way a word is written most often in the overrides' texts (then in all texts;
    ties: alphabetical): the theme's own "double", not the contrast's "doubled"."""
    raws = {raw for raw, _ in counts}
    return min(raws, key=lambda r: (-counts[r, "overrides"], -counts[r, "texts"], r))


@dataclass(frozen=True)
class _Counts:
    """How many of the theme's items (of m) and of the contrast's (of n_out) mention each
    word, and the rows they are counted from."""

    xin: sp.csr_matrix
    xout: sp.csr_matrix
    a: np.ndarray
    b: np.ndarray
    m: int
    n_out: int


def _counts(field: TextField, members: np.ndarray, outside_rows: np.ndarray | None) -> _Counts:
    xin = field.inside[members]
    if outside_rows is None:
        xout, b = field.outside, field.outside_count
    else:
        xout = field.inside[outside_rows]
        b = np.asarray(xout.sum(axis=0)).ravel()
    a = np.asarray(xin.sum(axis=0)).ravel()
    return _Counts(xin, xout, a, b, len(members), xout.shape[0])


def _candidates(c: _Counts, s: ThemeSettings) -> np.ndarray:
    share_in, share_out = c.a / c.m, c.b / c.n_out
    return np.flatnonzero(
        (c.a >= s.min_count)
        & (share_in >= s.text_word_share)
        & (share_in >= s.text_word_lift * share_out)
    )


def distinguishing(
    field: TextField, members: np.ndarray, outside_rows: np.ndarray | None, s: ThemeSettings
) -> np.ndarray:
    """The words that could be a text condition's of these members (step 1 above),
    against the whole contrast (`outside_rows` None) or these overrides."""
    if len(members) == 0 or _contrast_size(field, outside_rows) == 0:
        return np.zeros(0, dtype=np.int64)
    return _candidates(_counts(field, members, outside_rows), s)


def _contrast_size(field: TextField, outside_rows: np.ndarray | None) -> int:
    return field.outside.shape[0] if outside_rows is None else len(outside_rows)


def mentions(
    field: TextField,
    members: np.ndarray,
    outside_rows: np.ndarray | None,
    settings: ThemeSettings,
) -> Mentions | None:
    """The theme's candidate condition on this text field (see the module docstring),
    against the whole contrast (`outside_rows` None) or these overrides."""
    s = settings
    if len(members) == 0 or _contrast_size(field, outside_rows) == 0:
        return None
    c = _counts(field, members, outside_rows)
    candidates = _candidates(c, s)
    if len(candidates) == 0:
        return None
    # columns of the candidates only, so each greedy step sums few columns
    xin = sp.csc_matrix(c.xin[:, candidates])
    xout = sp.csc_matrix(c.xout[:, candidates])
    covered_in = np.zeros(c.m, dtype=bool)
    covered_out = np.zeros(c.n_out, dtype=bool)
    chosen: list[int] = []
    for _ in range(s.text_max_words):
        gain = (
            np.asarray(xin[~covered_in].sum(axis=0)).ravel() / c.m
            - np.asarray(xout[~covered_out].sum(axis=0)).ravel() / c.n_out
        )
        gain[chosen] = -math.inf
        best = int(np.argmax(gain))  # ties: the first candidate (the lowest word index)
        if gain[best] < s.text_min_gain:
            break
        chosen.append(best)
        covered_in |= xin[:, best].toarray().ravel() > 0
        covered_out |= xout[:, best].toarray().ravel() > 0
    if not chosen:
        return None
    words = [int(candidates[k]) for k in chosen]
    return Mentions(
        field=field,
        chosen=words,
        word_inside=[int(c.a[k]) for k in words],
        inside=int(covered_in.sum()),
        outside=int(covered_out.sum()),
        n_out=c.n_out,
        tried=max(1, int(np.count_nonzero(c.a >= s.min_count))),
    )


def profile_similarity(field: TextField, a: np.ndarray, b: np.ndarray, words: np.ndarray) -> float:
    """Cosine of what a's and b's items mention beyond the usual: per word, the share of
    the theme's items mentioning it minus `field.usual`'s (at least 0)."""
    if len(words) == 0 or len(a) == 0 or len(b) == 0:
        return 0.0
    usual = field.usual[words]
    pa = np.asarray(field.inside[a][:, words].sum(axis=0)).ravel() / len(a) - usual
    pb = np.asarray(field.inside[b][:, words].sum(axis=0)).ravel() / len(b) - usual
    pa, pb = np.maximum(pa, 0.0), np.maximum(pb, 0.0)
    norm = float(np.linalg.norm(pa) * np.linalg.norm(pb))
    return float(pa @ pb) / norm if norm > 0 else 0.0
