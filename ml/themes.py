"""Override themes: what a window's override reasons have in common, as concerns.

    mine_themes(overrides, others, model_features) -> [Theme, ...]  (largest share first)

People write one concern many ways ("too young", "founded 1.2 years ago",
"under two years old"); a theme is the concern, not the phrasing. Text alone
splits a concern into its phrasings; what the phrasings share is the items
they are about, so clusters are merged by the payload conditions of their
items. The steps:

1. Text. Each reason is normalised (ml.text: lowercase, numbers and number
   words -> NUM, stop words out, light stemming) into unigrams and bigrams;
   the words of the action names ("Decline: ...") are dropped. Identical
   normalised reasons are one row with a weight. A term must occur in at
   least two overrides; binary tf x smoothed idf, rows L2-normalised.
2. Clusters. k-means in a 100-dimensional LSA space (truncated SVD of the
   tf-idf rows, re-normalised), fitted on a weighted sample of at most
   SAMPLE_SIZE overrides, for k on a grid up to MAX_CLUSTERS; k is chosen by
   the silhouette (cosine, on a sample), taking the largest k within
   K_TOLERANCE of the best score (over-splitting is repaired by step 3, a
   mixed cluster only partly by step 4). Every override then goes to the
   nearest centroid (cosine in tf-idf space) and stays only if its reason is
   like the cluster's other reasons (leave-one-out cosine >= MIN_ITEM_SIMILARITY):
   unrelated one-off reasons, and reasons with no term seen twice, join no
   cluster. Each cluster is cut into at most PIECES text-tight pieces (its
   distinct normalised reasons, or a k-means split of them).
3. Merge into concerns, greedily, best pair first:
   - both have payload conditions (step 5) and their conditions hold across
     each other's members (>= MERGE_CONDITION_AGREEMENT of them, counting both
     ways): the same concern phrased differently;
   - one has conditions and the other (a phrasing with too few items for
     conditions of its own) has a clear majority satisfying all of them,
     significantly more often than the contrast does (Fisher, p < ALPHA);
   - neither has conditions and their tf-idf centroids are close (a phrasing
     split in two), or, with an `embedder`, their reasons mean the same
     (cosine of mean sentence embeddings >= SEMANTIC_MERGE_SIMILARITY), or
     together they have conditions that both satisfy (phrasings too small for
     conditions of their own, as in a small window).
   A merged cluster's conditions are computed again.
4. Reassign pieces: a piece whose items do not satisfy its theme's conditions
   (a phrasing k-means put with another concern's) moves to the theme whose
   conditions a clear majority of it does satisfy, significantly (Fisher,
   Bonferroni over the pieces). Then step 3 once more.
5. Conditions (per theme; contrast: `others`, the payloads of the workflow's
   other decided items, or, when there are none, the overrides outside the
   theme). Payloads are flattened to dotted names; lists are ignored. Kinds:
   "field = value" (the theme's commonest value), "field != value" (the
   contrast's usual value, >= half of it, when the theme mostly lacks it; not
   for two-valued fields), "field < t" / "field > t" (numeric fields: the cut
   with the best Youden's J between theme and contrast, then the roundest
   number that does nearly as well: "company_age_years < 2", not "< 1.97").
   A condition is reported only when it holds for >= MIN_SUPPORT of the
   theme's items and >= MIN_COUNT items, with lift >= MIN_LIFT over the
   contrast and a one-sided Fisher exact p < ALPHA / (conditions tried for the
   theme x clusters) (Bonferroni across fields and themes), so a small or
   random theme gets none. At most MAX_CONDITIONS, highest lift first.
6. Report. Dropped (neither returned nor grouped as "other"): themes of one
   override, themes with fewer than MIN_COUNT overrides and less than
   TINY_SHARE of them, and themes with no condition whose commonest term is
   in fewer than MIN_SHARED_TERM of their reasons (one-offs that k-means
   lumped together). Shares always refer to all overrides analysed, so they
   may add up to less than 1. Sorted by count (ties: label); at most
   `max_themes`.
   - keywords: the terms most typical of the theme against the other
     overrides (class-based tf-idf on document frequencies), NUM-free, shown
     in the words the theme's reasons use; label: the first three.
   - proposed_action: the proposal the theme overrides most;
     share_of_action_overrides: the theme's overrides of it / all overrides of it.
   - examples: the most central reason of each of the largest pieces,
     skipping reasons worded like one already chosen (cosine >= 0.5).
   - suggested_feature: the strongest condition field the active model does
     not use (a feature named the field, "field=..." or "field...." counts as
     using it), else a field whose own name (last dotted part) shares a word
     with the theme's top terms ("unverified" -> "identity_verified"); with no
     active model (None), the strongest condition field.

0 overrides: []; 1 or 2: one theme holding them all (no clustering).
Deterministic for a given seed; runs with one BLAS/OpenMP thread.

The optional embedder: any callable texts -> vectors. `load_embedder()` gives
WordLlama's bundled model when that package is installed. Measured on this
module's test worlds it is too weak to merge on: phrasings of one concern
score 0.25-0.35 with each other while unrelated concerns also reach 0.3, and
"under two years old" vs "too old" 0.57; at SEMANTIC_MERGE_SIMILARITY (0.85,
meant for a real sentence encoder) it never merges anything.
"""

from __future__ import annotations

import math
import re
import warnings
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.stats import hypergeom
from sklearn.cluster import AgglomerativeClustering, KMeans
from sklearn.decomposition import TruncatedSVD
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.metrics import pairwise_distances, silhouette_score
from threadpoolctl import threadpool_limits

from ml.text import NUM, Surfaces, stem, terms, tokens

Embedder = Callable[[Sequence[str]], Any]  # texts -> array (len(texts), dim)

MAX_CLUSTERS = 40
THREADS = 1
LSA_DIMENSIONS = 100
KMEANS_INIT = 3
K_TOLERANCE = 0.02
SAMPLE_SIZE = 4000
SILHOUETTE_SAMPLE = 1500
MIN_ITEM_SIMILARITY = 0.3
MIN_TERM_COUNT = 2
MAX_VOCABULARY = 20_000

MIN_SUPPORT = 0.65
MIN_COUNT = 5
MIN_LIFT = 1.5
ALPHA = 0.01
MAX_CONDITIONS = 4
ROUNDING_SLACK = 0.02  # how much of Youden's J a rounder threshold may give up

MERGE_CONDITION_AGREEMENT = 0.75
REASSIGN_ROUNDS = 3
PIECES = 8  # a large cluster is split into this many pieces for reassignment
AGGLOMERATE_ROWS = 300  # up to this many distinct reasons, pieces by agglomeration
PIECE_SIMILARITY = 0.5
SPECIFICITY = 0.25  # a description this much rarer in the contrast is the better one
PIECE_SAMPLE = 2000
TEXT_MERGE_SIMILARITY = 0.5
SEMANTIC_MERGE_SIMILARITY = 0.85
SEMANTIC_MAX_TEXTS = 24

TINY_SHARE = 0.03
MIN_SHARED_TERM = 0.5  # a theme without conditions: its commonest term is in half its reasons
MAX_KEYWORDS = 5
MAX_FIELD_TERMS = 12  # the theme's words that may name a payload field
MIN_KEYWORD_SHARE = 0.05
SURFACE_ROWS = 500
MAX_EXAMPLES = 3
EXAMPLE_MAX_SIMILARITY = 0.5
EXAMPLE_PIECES = 12
MAX_FIELDS = 300
NUMERIC_MAJORITY = 0.9

_SCALAR_TYPES = frozenset({str, int, float, bool})
_FIELD_WORD = re.compile(r"[a-z]+")
_GENERIC_FIELD_WORDS = frozenset({"id", "is", "has", "the", "num", "count", "value", "length"})


@dataclass
class OverrideSample:
    reason: str
    proposed_action: str
    chosen_action: str
    payload: dict[str, Any]


@dataclass
class Theme:
    label: str  # human words, e.g. top terms "young, years old, founded"
    keywords: list[str]
    count: int
    share: float  # of the overrides analysed
    proposed_action: str | None
    share_of_action_overrides: float | None
    conditions: list[str]  # e.g. ["industry = healthcare", "company_age_years < 2"]
    suggested_feature: str | None
    examples: list[str]  # a few representative reasons
    members: list[int]  # indices into the input overrides


# --------------------------------------------------------------------------- payloads


def flatten(payload: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested objects as dotted names; None and lists are left out (a list's
    items are not one condition)."""
    out: dict[str, Any] = {}
    stack: list[tuple[str, Mapping[str, Any]]] = [(prefix, payload)]
    while stack:
        pre, obj = stack.pop()
        for key, value in obj.items():
            if value is None:
                continue
            kind = type(value)
            if kind is dict or (kind not in _SCALAR_TYPES and isinstance(value, Mapping)):
                stack.append((f"{pre}{key}.", value))
            elif kind in _SCALAR_TYPES or not isinstance(value, list | tuple | set | frozenset):
                out[f"{pre}{key}"] = value
    return out


_NUMBER_TYPES = (int, float)


def _is_number(value: Any) -> bool:
    return type(value) in _NUMBER_TYPES or (
        isinstance(value, int | float) and not isinstance(value, bool)
    )


def _category(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


_NONE_TYPE = type(None)
_FLOAT_OR_INT = frozenset({int, float})


def _is_number_type(value_type: type) -> bool:
    """`_is_number` of a value of this type."""
    return value_type in _FLOAT_OR_INT or (
        issubclass(value_type, int | float) and not issubclass(value_type, bool)
    )


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
class _Column:
    name: str
    numeric: bool
    inside: np.ndarray  # per override: float (NaN missing) or int code (-1 missing)
    outside: np.ndarray  # per contrast payload, same encoding
    levels: list[str] = field(default_factory=list)


class _Table:
    """The flattened payloads of the overrides and of the contrast, by column."""

    def __init__(self, overrides: Sequence[Mapping[str, Any]], others: Sequence[Mapping[str, Any]]):
        flat_in = [flatten(p) if isinstance(p, Mapping) else {} for p in overrides]
        flat_out = [flatten(p) if isinstance(p, Mapping) else {} for p in others]
        presence: Counter[str] = Counter()
        for row in flat_in:
            presence.update(row.keys())
        names = sorted(presence, key=lambda k: (-presence[k], k))[:MAX_FIELDS]
        self.columns: list[_Column] = []
        for name in sorted(names):
            values_in = list(map(dict.get, flat_in, repeat(name)))
            values_out = list(map(dict.get, flat_out, repeat(name)))
            # Counted by type: whether a value is a number depends on its type only.
            by_type = Counter(map(type, values_in))
            by_type.update(map(type, values_out))
            present = by_type.total() - by_type.pop(_NONE_TYPE, 0)
            numbers = sum(k for t, k in by_type.items() if _is_number_type(t))
            if present and numbers >= NUMERIC_MAJORITY * present:
                col = _Column(
                    name,
                    True,
                    _numbers(values_in, by_type.keys()),
                    _numbers(values_out, by_type.keys()),
                )
            else:
                codes: dict[str, int] = {}
                only_strings = by_type.keys() <= {str}
                inside = _codes(values_in, codes, only_strings)
                outside = _codes(values_out, codes, only_strings)
                col = _Column(name, False, inside, outside, list(codes))
            self.columns.append(col)
        self.by_name = {c.name: c for c in self.columns}


@dataclass(frozen=True)
class _Condition:
    field: str
    op: str  # "=", "!=", "<", ">"
    value: Any  # int code for = / !=, float threshold for < / >
    text: str
    support: float
    base: float
    lift: float
    p: float

    def holds(self, col: _Column, values: np.ndarray) -> np.ndarray:
        if self.op == "=":
            return values == self.value
        if self.op == "!=":
            return (values != self.value) & (values >= 0)
        with np.errstate(invalid="ignore"):
            if self.op == "<":
                return values < self.value
            return values > self.value


def _fisher_greater(a: int, m: int, b: int, n_out: int) -> float:
    """One-sided Fisher exact test: P(at least a of the m theme items satisfy) when
    the a + b satisfying items are spread at random over m + n_out items."""
    if a <= 0:
        return 1.0
    return float(hypergeom.sf(a - 1, m + n_out, a + b, m))


def _nice_threshold(v: float, direction: str, digits: int) -> float:
    """The number with `digits` significant digits just past v (above for "<",
    below for ">"), so that "x < t" / "x > t" still includes v."""
    magnitude = math.floor(math.log10(abs(v))) if v != 0 else 0
    step = 10.0 ** (magnitude - digits + 1)
    if direction == "<":
        t = math.ceil(v / step) * step
        if t <= v:
            t += step
    else:
        t = math.floor(v / step) * step
        if t >= v:
            t -= step
    return round(t, max(0, digits - magnitude + 1))


def _render_number(t: float) -> str:
    if float(t).is_integer():
        return str(int(t))
    return f"{t:.6g}"


def _numeric_condition(
    name: str, xin: np.ndarray, xout_sorted: np.ndarray, n_out: int
) -> tuple[str, float, float, float, int, int] | None:
    """The best "<" or ">" cut for one numeric field: (op, t, support, base, a, b)."""
    m = len(xin)
    vals = np.sort(xin[~np.isnan(xin)])
    if len(vals) < MIN_COUNT or n_out == 0:
        return None
    best: tuple[float, str, float] | None = None
    # "<": include every member value <= v
    cand = np.unique(vals)
    sup_lt = np.searchsorted(vals, cand, side="right") / m
    base_lt = np.searchsorted(xout_sorted, cand, side="right") / n_out
    j = np.where(sup_lt >= MIN_SUPPORT, sup_lt - base_lt, -np.inf)
    i = int(np.argmax(j))
    if np.isfinite(j[i]):
        best = (float(j[i]), "<", float(cand[i]))
    sup_gt = (len(vals) - np.searchsorted(vals, cand, side="left")) / m
    base_gt = (len(xout_sorted) - np.searchsorted(xout_sorted, cand, side="left")) / n_out
    j = np.where(sup_gt >= MIN_SUPPORT, sup_gt - base_gt, -np.inf)
    i = int(np.argmax(j))
    if np.isfinite(j[i]) and (best is None or j[i] > best[0]):
        best = (float(j[i]), ">", float(cand[i]))
    if best is None or best[0] <= 0:
        return None
    j_best, op, v = best

    def evaluate(t: float) -> tuple[float, float, int, int]:
        if op == "<":
            a = int(np.searchsorted(vals, t, side="left"))
            b = int(np.searchsorted(xout_sorted, t, side="left"))
        else:
            a = len(vals) - int(np.searchsorted(vals, t, side="right"))
            b = len(xout_sorted) - int(np.searchsorted(xout_sorted, t, side="right"))
        return a / m, b / n_out, a, b

    for digits in range(1, 7):
        t = _nice_threshold(v, op, digits)
        support, base, a, b = evaluate(t)
        if support >= MIN_SUPPORT and support - base >= j_best - ROUNDING_SLACK:
            return op, t, support, base, a, b
    support, base, a, b = evaluate(v + 1e-9 if op == "<" else v - 1e-9)
    return op, v, support, base, a, b


class _Contrast:
    """What a theme's items are compared with: the other decided items' payloads,
    or, without any, the overrides outside the theme."""

    def __init__(self, table: _Table, n_overrides: int, n_others: int):
        self.family = 1  # how many themes are tried: the Bonferroni factor across themes
        self.table = table
        self.n_overrides = n_overrides
        self.use_others = n_others > 0
        self.sorted_out: dict[str, np.ndarray] = {}
        if self.use_others:
            for col in table.columns:
                if col.numeric:
                    x = col.outside
                    self.sorted_out[col.name] = np.sort(x[~np.isnan(x)])

    def outside(self, col: _Column, members: np.ndarray) -> np.ndarray:
        if self.use_others:
            return col.outside
        mask = np.ones(self.n_overrides, dtype=bool)
        mask[members] = False
        return col.inside[mask]

    def sorted_outside(self, col: _Column, members: np.ndarray) -> np.ndarray:
        if self.use_others:
            return self.sorted_out[col.name]
        x = self.outside(col, members)
        return np.sort(x[~np.isnan(x)])

    def conditions(self, members: np.ndarray) -> list[_Condition]:
        m = len(members)
        if m < MIN_COUNT:
            return []
        found: list[tuple[str, Any, str, float, float, int, int, int, str]] = []
        tried = 0
        for col in self.table.columns:
            xin = col.inside[members]
            xout = self.outside(col, members)
            n_out = len(xout)
            if n_out == 0:
                continue
            if col.numeric:
                tried += 2
                cut = _numeric_condition(col.name, xin, self.sorted_outside(col, members), n_out)
                if cut is None:
                    continue
                op, t, _support, _base, a, b = cut
                found.append(
                    (op, t, f"{col.name} {op} {_render_number(t)}", 0, 0, a, b, n_out, col.name)
                )
                continue
            codes_in = xin[xin >= 0]
            if len(codes_in) == 0:
                continue
            tried += 1
            counts = np.bincount(codes_in, minlength=len(col.levels))
            mode = int(np.argmax(counts))
            a = int(counts[mode])
            b = int(np.count_nonzero(xout == mode))
            text = f"{col.name} = {col.levels[mode]}"
            if a >= MIN_SUPPORT * m:
                found.append(("=", mode, text, 0, 0, a, b, n_out, col.name))
                continue
            if len(col.levels) <= 2:
                continue
            codes_out = xout[xout >= 0]
            if len(codes_out) == 0:
                continue
            tried += 1
            usual = int(np.argmax(np.bincount(codes_out, minlength=len(col.levels))))
            if np.count_nonzero(codes_out == usual) < 0.5 * n_out:
                continue
            a = int(np.count_nonzero((xin != usual) & (xin >= 0)))
            b = int(np.count_nonzero((xout != usual) & (xout >= 0)))
            found.append(
                ("!=", usual, f"{col.name} != {col.levels[usual]}", 0, 0, a, b, n_out, col.name)
            )
        alpha = ALPHA / (max(1, tried) * self.family)
        out: list[_Condition] = []
        for op, value, text, _, _, a, b, n_out, name in found:
            support = a / m
            base = b / n_out
            if a < MIN_COUNT or support < MIN_SUPPORT:
                continue
            lift = support / base if base > 0 else math.inf
            if lift < MIN_LIFT:
                continue
            p = _fisher_greater(a, m, b, n_out)
            if p >= alpha:
                continue
            out.append(_Condition(name, op, value, text, support, base, lift, p))
        out.sort(key=lambda c: (-min(c.lift, 1e9), c.p, c.text))
        return out[:MAX_CONDITIONS]

    def conjunction_rate_outside(
        self, conds: Sequence[_Condition], members: np.ndarray
    ) -> tuple[int, int]:
        """How many contrast items satisfy all of conds, of how many."""
        mask: np.ndarray | None = None
        n = 0
        for c in conds:
            col = self.table.by_name[c.field]
            h = c.holds(col, self.outside(col, members))
            n = len(h)
            mask = h if mask is None else mask & h
        return (int(mask.sum()) if mask is not None else 0), n

    def holding(self, conds: Sequence[_Condition], members: np.ndarray) -> list[np.ndarray]:
        return [
            c.holds(self.table.by_name[c.field], self.table.by_name[c.field].inside[members])
            for c in conds
        ]


# --------------------------------------------------------------------------- text


@dataclass
class _Corpus:
    """Unique normalised reasons (rows) with their multiplicity, and the term matrix."""

    row_of: np.ndarray  # override index -> row
    weights: np.ndarray  # row -> number of overrides
    binary: sp.csr_matrix  # rows x terms, 0/1
    tfidf: sp.csr_matrix  # rows x terms, L2-normalised (zero rows: no usable term)
    vocabulary: list[str]
    first: np.ndarray  # row -> first override index with it


def _corpus(reasons: Sequence[str], drop: Collection[str] = ()) -> _Corpus:
    norm_of: dict[str, int] = {}
    row_of = np.empty(len(reasons), dtype=np.int64)
    first: list[int] = []
    token_lists: list[list[str]] = []
    seen: dict[str, tuple[str, list[str]]] = {}  # raw reason -> (key, tokens)
    for i, reason in enumerate(reasons):
        known = seen.get(reason)
        if known is None:
            toks = [t for t in tokens(reason or "") if t not in drop]
            known = seen[reason] = (" ".join(toks), toks)
        key, toks = known
        row = norm_of.get(key)
        if row is None:
            row = len(first)
            norm_of[key] = row
            first.append(i)
            token_lists.append(toks)
        row_of[i] = row
    weights = np.bincount(row_of, minlength=len(first)).astype(float)
    vectorizer = CountVectorizer(analyzer=terms, binary=True, dtype=np.float64)
    try:
        binary = vectorizer.fit_transform(token_lists).tocsr()
        vocab = list(vectorizer.get_feature_names_out())
    except ValueError:  # no term at all
        binary = sp.csr_matrix((len(first), 0))
        vocab = []
    if vocab:
        term_count = np.asarray(binary.T @ weights).ravel()
        keep = np.flatnonzero(term_count >= MIN_TERM_COUNT)
        if len(keep) > MAX_VOCABULARY:
            keep = keep[np.argsort(-term_count[keep], kind="stable")[:MAX_VOCABULARY]]
            keep.sort()
        binary = binary[:, keep].tocsr()
        vocab = [vocab[k] for k in keep]
        term_count = term_count[keep]
        idf = np.log((1.0 + len(reasons)) / (1.0 + term_count)) + 1.0
        tfidf = binary @ sp.diags(idf)
        norms = np.sqrt(np.asarray(tfidf.multiply(tfidf).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        tfidf = sp.diags(1.0 / norms) @ tfidf
    else:
        tfidf = binary
    return _Corpus(
        row_of, weights, sp.csr_matrix(binary), sp.csr_matrix(tfidf), vocab, np.array(first)
    )


def _k_grid(limit: int) -> list[int]:
    grid = [
        k for k in (2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 18, 20, 24, 28, 32, 36, 40) if k <= limit
    ]
    return grid or [2]


def _cluster_rows(corpus: _Corpus, seed: int) -> np.ndarray:
    """A cluster per unique row (-1: none), by k-means with k chosen by silhouette."""
    x = corpus.tfidf
    usable = np.flatnonzero(np.asarray(x.getnnz(axis=1)).ravel() > 0)
    labels = np.full(x.shape[0], -1, dtype=np.int64)
    if len(usable) == 0:
        return labels
    if len(usable) <= 3:
        labels[usable] = np.arange(len(usable))
        return labels
    rng = np.random.default_rng(seed)
    w = corpus.weights[usable]
    total = int(w.sum())
    if total > SAMPLE_SIZE:  # a sample of overrides, collapsed to rows with multiplicity
        draws = rng.choice(len(usable), size=SAMPLE_SIZE, replace=True, p=w / w.sum())
        sample_rows, sample_w = np.unique(draws, return_counts=True)
    else:
        sample_rows, sample_w = np.arange(len(usable)), w.astype(np.int64)
    xs = x[usable[sample_rows]]
    ws = sample_w.astype(float)
    # k-means runs in a small dense space (LSA: truncated SVD of the tf-idf rows,
    # re-normalised), which is much faster than sparse k-means and joins terms
    # that occur together; the cosine to the centroids is then taken in tf-idf space.
    dims = min(LSA_DIMENSIONS, xs.shape[0] - 1, xs.shape[1] - 1)
    if dims >= 2:
        z = TruncatedSVD(n_components=dims, random_state=seed).fit_transform(xs)
        zn = np.linalg.norm(z, axis=1)
        zn[zn == 0] = 1.0
        z = z / zn[:, None]
    else:
        z = xs.toarray()
    # The silhouette is taken over overrides (rows repeated by multiplicity).
    expanded = np.repeat(np.arange(len(sample_rows)), sample_w)
    if len(expanded) > SILHOUETTE_SAMPLE:
        expanded = np.sort(rng.choice(expanded, size=SILHOUETTE_SAMPLE, replace=False))
    limit = min(MAX_CLUSTERS, len(sample_rows) - 1)
    # The cosine distances between the sampled overrides, once for every k (what
    # silhouette_score(metric="cosine") would compute again for each).
    distances = pairwise_distances(z[expanded], metric="cosine")
    scores: list[tuple[int, float, np.ndarray]] = []
    for k in _k_grid(limit):
        km = KMeans(n_clusters=k, n_init=KMEANS_INIT, random_state=seed, max_iter=200)
        km.fit(z, sample_weight=ws)
        lab = km.labels_[expanded]
        n_lab = len(np.unique(lab))
        if n_lab < 2 or n_lab >= len(expanded):
            score = -1.0
        else:
            score = float(silhouette_score(distances, lab, metric="precomputed"))
        scores.append((k, score, km.labels_))
    best = max(s for _, s, _ in scores)
    _, _, sample_labels = max((s for s in scores if s[1] >= best - K_TOLERANCE), key=lambda s: s[0])
    k = int(sample_labels.max()) + 1
    onehot = sp.csr_matrix(
        (ws, (sample_labels, np.arange(len(sample_rows)))), shape=(k, len(sample_rows))
    )
    centroids = np.asarray((onehot @ xs).todense())
    norms = np.linalg.norm(centroids, axis=1)
    norms[norms == 0] = 1.0
    centroids = centroids / norms[:, None]
    xu = x[usable]
    nearest = np.asarray(np.argmax(xu @ centroids.T, axis=1)).ravel()
    # Keep an override only if its reason is like the cluster's OTHER reasons: the
    # cosine to the cluster's sum without this one copy of it. A cluster of
    # unrelated one-offs that each share a word with one other loses them all.
    onehot = sp.csr_matrix((w, (nearest, np.arange(len(usable)))), shape=(k, len(usable)))
    sums = np.asarray((onehot @ xu).todense())
    sum_sq = (sums**2).sum(axis=1)
    dot = np.asarray(xu @ sums.T)[np.arange(len(usable)), nearest]
    rest_norm = np.sqrt(np.maximum(sum_sq[nearest] - 2.0 * dot + 1.0, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        loo = np.where(rest_norm > 1e-9, (dot - 1.0) / rest_norm, 0.0)
    ok = loo >= MIN_ITEM_SIMILARITY
    labels[usable[ok]] = nearest[ok]
    return labels


# --------------------------------------------------------------------------- merging


@dataclass
class _Group:
    clusters: list[np.ndarray]  # member override indices of each constituent cluster
    members: np.ndarray
    conditions: list[_Condition]
    centroid: np.ndarray  # text centroid (dense, normalised)
    base: float = 1.0  # share of the contrast satisfying all its conditions (1: none)
    meaning: np.ndarray | None = None


def _worth_reporting(group: _Group, corpus: _Corpus, n: int) -> bool:
    """Not a tiny leftover, and a concern: payload conditions of its own, or one
    term that most of its reasons share (else it is one-offs that k-means lumped)."""
    m = len(group.members)
    if m < 2 or (m < MIN_COUNT and m / n < TINY_SHARE):
        return False
    if group.conditions or not corpus.vocabulary:
        return bool(group.conditions)
    rows, counts = np.unique(corpus.row_of[group.members], return_counts=True)
    df = np.asarray(corpus.binary[rows].T @ counts.astype(float)).ravel()
    return float(df.max()) >= MIN_SHARED_TERM * m


def _text_centroid(corpus: _Corpus, members: np.ndarray) -> np.ndarray:
    rows, counts = np.unique(corpus.row_of[members], return_counts=True)
    c = np.asarray(corpus.tfidf[rows].T @ counts.astype(float)).ravel()
    n = np.linalg.norm(c)
    return c / n if n > 0 else c


def _meaning(embedder: Embedder, reasons: Sequence[str], members: np.ndarray) -> np.ndarray | None:
    common = Counter(reasons[i].strip() for i in members).most_common(SEMANTIC_MAX_TEXTS)
    texts = [t for t, _ in common if t]
    if not texts:
        return None
    vectors = np.asarray(embedder(texts), dtype=float)
    weights = np.array([c for t, c in common if t], dtype=float)
    norms = np.linalg.norm(vectors, axis=1)
    norms[norms == 0] = 1.0
    v = (vectors / norms[:, None]).T @ weights
    n = np.linalg.norm(v)
    return v / n if n > 0 else None


class _Merger:
    def __init__(
        self,
        contrast: _Contrast,
        corpus: _Corpus,
        reasons: Sequence[str],
        embedder: Embedder | None,
        seed: int,
    ):
        self.contrast = contrast
        self.corpus = corpus
        self.reasons = reasons
        self.embedder = embedder
        self.seed = seed

    def pieces(self, cluster: np.ndarray) -> list[np.ndarray]:
        """A k-means cluster cut into text-tight pieces, the units of reassignment:
        its distinct normalised reasons joined by average-linkage clustering at
        cosine PIECE_SIMILARITY, or, for a cluster of many, a k-means split into
        PIECES."""
        rows, inverse = np.unique(self.corpus.row_of[cluster], return_inverse=True)
        if len(rows) <= 1:
            return [cluster]
        if len(rows) <= AGGLOMERATE_ROWS:
            dense = self.corpus.tfidf[rows].toarray()
            agg = AgglomerativeClustering(
                n_clusters=None,
                metric="cosine",
                linkage="average",
                distance_threshold=1.0 - PIECE_SIMILARITY,
            )
            labels = agg.fit_predict(dense)[inverse]
        else:
            x = self.corpus.tfidf[rows]
            w = np.bincount(inverse, minlength=len(rows)).astype(float)
            fit_rows = np.arange(len(rows))
            if len(rows) > PIECE_SAMPLE:
                rng = np.random.default_rng(self.seed)
                fit_rows = np.sort(
                    rng.choice(len(rows), PIECE_SAMPLE, replace=False, p=w / w.sum())
                )
            km = KMeans(n_clusters=PIECES, n_init=1, random_state=self.seed, max_iter=50)
            with warnings.catch_warnings():  # fewer distinct rows than PIECES: fine
                warnings.simplefilter("ignore", ConvergenceWarning)
                km.fit(x[fit_rows], sample_weight=w[fit_rows])
            labels = km.predict(x)[inverse]
        return [cluster[labels == j] for j in np.unique(labels)]

    def group(self, clusters: list[np.ndarray]) -> _Group:
        members = np.sort(np.concatenate(clusters))
        g = _Group(
            clusters=sorted(clusters, key=lambda c: (-len(c), int(c[0]))),
            members=members,
            conditions=self.contrast.conditions(members),
            centroid=_text_centroid(self.corpus, members),
        )
        if g.conditions:
            k, n = self.contrast.conjunction_rate_outside(g.conditions, members)
            g.base = k / n if n else 1.0
        if self.embedder is not None:
            g.meaning = _meaning(self.embedder, self.reasons, members)
        return g

    def _agreement(self, a: _Group, b: _Group) -> float:
        """Share of a's conditions holding on b's members and of b's on a's."""
        held = 0
        for x, y in ((a, b), (b, a)):
            for h in self.contrast.holding(x.conditions, y.members):
                held += int(h.mean() >= MIN_SUPPORT)
        return held / (len(a.conditions) + len(b.conditions))

    def _fit(self, a: _Group, members: np.ndarray) -> float:
        """The share of `members` satisfying all of a's conditions."""
        holds = self.contrast.holding(a.conditions, members)
        if not holds:
            return 0.0
        return float(np.logical_and.reduce(holds).mean())

    def _absorbs(self, a: _Group, members: np.ndarray, alpha: float = ALPHA) -> float | None:
        """`members` (a cluster without conditions of its own, or a piece of one)
        are a phrasing of a's concern: a clear majority satisfies all of a's
        conditions, far more often than the contrast items do."""
        rate = self._fit(a, members)
        k = round(rate * len(members))
        if rate < MIN_SUPPORT or k < 2:
            return None
        outside_k, outside_n = self.contrast.conjunction_rate_outside(a.conditions, a.members)
        if outside_n == 0 or _fisher_greater(k, len(members), outside_k, outside_n) >= alpha:
            return None
        return rate

    def score(self, a: _Group, b: _Group) -> float | None:
        if a.conditions and b.conditions:
            s = self._agreement(a, b)
            if s >= MERGE_CONDITION_AGREEMENT:
                return s
            # The smaller one's items satisfy all of the larger one's conditions,
            # and its own are no much rarer description: a phrasing of the same
            # concern whose few items happen to look sharper ("< 1" vs "< 2").
            big, small = (a, b) if len(a.members) >= len(b.members) else (b, a)
            if small.base < SPECIFICITY * big.base:
                return None
            return self._absorbs(big, small.members)
        if a.conditions or b.conditions:
            big, small = (a, b) if a.conditions else (b, a)
            return self._absorbs(big, small.members)
        text = float(a.centroid @ b.centroid)
        if text >= TEXT_MERGE_SIMILARITY:
            return text
        if a.meaning is not None and b.meaning is not None:
            meaning = float(a.meaning @ b.meaning)
            if meaning >= SEMANTIC_MERGE_SIMILARITY:
                return meaning
        # Two phrasings too small for conditions of their own (a small window):
        # together they may have some, and then both must satisfy them.
        union = np.concatenate([a.members, b.members])
        joint = _Group([union], union, self.contrast.conditions(union), a.centroid)
        if not joint.conditions:
            return None
        fit = min(self._fit(joint, a.members), self._fit(joint, b.members))
        return fit if fit >= MIN_SUPPORT else None

    def merge_all(self, groups: list[_Group]) -> list[_Group]:
        cache: dict[tuple[int, int], float | None] = {}
        ids = list(range(len(groups)))
        by_id = dict(enumerate(groups))
        next_id = len(groups)
        while len(ids) > 1:
            best: tuple[float, int, int] | None = None
            for x in range(len(ids)):
                for y in range(x + 1, len(ids)):
                    key = (ids[x], ids[y])
                    if key not in cache:
                        cache[key] = self.score(by_id[ids[x]], by_id[ids[y]])
                    s = cache[key]
                    if s is not None and (best is None or s > best[0]):
                        best = (s, ids[x], ids[y])
            if best is None:
                break
            _, p, q = best
            merged = self.group(by_id[p].clusters + by_id[q].clusters)
            del by_id[p], by_id[q]
            ids = [i for i in ids if i not in (p, q)] + [next_id]
            by_id[next_id] = merged
            next_id += 1
        return [by_id[i] for i in ids]

    def reassign(self, groups: list[_Group]) -> list[_Group]:
        """Move each piece that does not fit its group's conditions (a phrasing that
        k-means put with another) to the group whose conditions it clearly fits."""
        for _ in range(REASSIGN_ROUNDS):
            conditioned = [g for g in groups if g.conditions]
            if not conditioned:
                break
            pieces = [(gi, pi) for gi, g in enumerate(groups) for pi in range(len(g.clusters))]
            alpha = ALPHA / max(1, len(pieces))
            moves: list[tuple[int, int, int]] = []  # (from group, piece, to group)
            for gi, pi in pieces:
                g = groups[gi]
                piece = g.clusters[pi]
                if len(piece) < 2:
                    continue
                # where it is: fine if its theme's conditions fit it, unless another
                # theme's fit too and are a much rarer (more specific) description
                ceiling = 1.0
                if g.conditions and self._fit(g, piece) >= MIN_SUPPORT:
                    ceiling = SPECIFICITY * g.base
                best: tuple[float, float, int] | None = None  # (base, -rate, group)
                for ai, a in enumerate(groups):
                    if ai == gi or not a.conditions or a.base >= ceiling:
                        continue
                    rate = self._absorbs(a, piece, alpha)
                    if rate is not None and (best is None or (a.base, -rate) < best[:2]):
                        best = (a.base, -rate, ai)
                if best is not None:
                    moves.append((gi, pi, best[2]))
            if not moves:
                break
            taken: dict[int, set[int]] = {}
            given: dict[int, list[np.ndarray]] = {}
            for gi, pi, ai in moves:
                taken.setdefault(gi, set()).add(pi)
                given.setdefault(ai, []).append(groups[gi].clusters[pi])
            rebuilt: list[_Group] = []
            for gi, g in enumerate(groups):
                if gi not in taken and gi not in given:
                    rebuilt.append(g)
                    continue
                kept = [c for pi, c in enumerate(g.clusters) if pi not in taken.get(gi, set())]
                kept += given.get(gi, [])
                if kept:
                    rebuilt.append(self.group(kept))
            groups = rebuilt
        return groups


# --------------------------------------------------------------------------- report


def _top_terms(corpus: _Corpus, members: np.ndarray, n: int, limit: int) -> list[str]:
    """The terms most typical of the members against the other overrides
    (class-based tf-idf on document frequencies), without NUM and without a
    term that only repeats a better one's words."""
    if not corpus.vocabulary:
        return []
    rows, counts = np.unique(corpus.row_of[members], return_counts=True)
    inside = np.asarray(corpus.binary[rows].T @ counts.astype(float)).ravel()
    total = np.asarray(corpus.binary.T @ corpus.weights).ravel()
    m = len(members)
    rest = max(1, n - m)
    p_in = inside / m
    p_out = (total - inside) / rest
    eps = 0.5 / max(n, 1)
    score = p_in * np.log((p_in + eps) / (p_out + eps))
    order = np.argsort(-score, kind="stable")
    chosen: list[str] = []
    covered: list[set[str]] = []
    for t in order:
        if score[t] <= 0 or p_in[t] < MIN_KEYWORD_SHARE or len(chosen) >= limit:
            break
        term = corpus.vocabulary[t]
        parts = term.split(" ")
        if NUM in parts:
            continue
        if any(set(parts) <= c or c <= set(parts) for c in covered):
            continue
        chosen.append(term)
        covered.append(set(parts))
    return chosen


def _surfaces(corpus: _Corpus, reasons: Sequence[str], members: np.ndarray) -> Surfaces:
    """The words the theme's own reasons use (its most frequent distinct ones)."""
    rows, counts = np.unique(corpus.row_of[members], return_counts=True)
    top = np.argsort(-counts, kind="stable")[:SURFACE_ROWS]
    surfaces = Surfaces()
    for j in top:
        surfaces.add(reasons[int(corpus.first[rows[j]])], int(counts[j]))
    return surfaces


def _examples(corpus: _Corpus, reasons: Sequence[str], group: _Group) -> list[str]:
    """The most central reason of each of the theme's largest pieces, skipping
    those worded like one already chosen, so that the examples show its phrasings."""
    ranked: list[list[int]] = []  # per piece, its most central distinct reasons
    for piece in group.clusters[:EXAMPLE_PIECES]:
        rows, first = np.unique(corpus.row_of[piece], return_index=True)
        centroid = _text_centroid(corpus, piece)
        if centroid.size:
            sims = np.asarray(corpus.tfidf[rows] @ centroid).ravel()
            order = np.lexsort((rows, -sims))
        else:
            order = np.arange(len(rows))
        ranked.append([int(piece[first[j]]) for j in order[:MAX_EXAMPLES]])
    candidates = [r[depth] for depth in range(MAX_EXAMPLES) for r in ranked if depth < len(r)]
    out: list[str] = []
    chosen_rows: list[int] = []
    for strict in (True, False):
        for i in candidates:
            text = reasons[i].strip()
            row = int(corpus.row_of[i])
            if not text or text in out or len(out) >= MAX_EXAMPLES:
                continue
            if strict and chosen_rows and corpus.tfidf.shape[1]:
                sims = np.asarray(corpus.tfidf[chosen_rows] @ corpus.tfidf[row].T.toarray()).ravel()
                if sims.max() >= EXAMPLE_MAX_SIMILARITY:
                    continue
            out.append(text)
            chosen_rows.append(row)
    return out


def _field_words(name: str) -> set[str]:
    """The words of a field's own name (the last dotted part: "owner.age" -> "age")."""
    leaf = name.lower().rsplit(".", 1)[-1]
    return {
        stem(w) for w in _FIELD_WORD.findall(leaf) if w not in _GENERIC_FIELD_WORDS and len(w) >= 3
    }


def _same_word(field_word: str, word: str) -> bool:
    """ "verify" ~ "unverify", "verification" ~ "verify"; "age" !~ "manager"."""
    for prefix in ("un", "non", "in"):
        if word.startswith(prefix) and word[len(prefix) :] == field_word:
            return True
    if field_word == word:
        return True
    common = 0
    for a, b in zip(field_word, word, strict=False):
        if a != b:
            break
        common += 1
    return common >= 5


def _uses(model_features: Collection[str], name: str) -> bool:
    if name in model_features:
        return True
    return any(f.startswith((name + "=", name + ".")) for f in model_features)


def _suggested_feature(
    conditions: Sequence[_Condition],
    words: Collection[str],
    table: _Table,
    model_features: Collection[str] | None,
) -> str | None:
    """The strongest condition field the model does not use, else a field named by
    the theme's words; with no model (None), the strongest condition field."""
    if model_features is None:
        if conditions:
            return conditions[0].field
        model_features = ()
    candidates: list[str] = []
    for c in conditions:
        if c.field not in candidates:
            candidates.append(c.field)
    for col in table.columns:
        fw = _field_words(col.name)
        if col.name not in candidates and any(_same_word(f, w) for f in fw for w in words):
            candidates.append(col.name)
    for name in candidates:
        if not _uses(model_features, name):
            return name
    return None


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _theme(
    group: _Group,
    overrides: Sequence[OverrideSample],
    reasons: Sequence[str],
    action_totals: Counter[str],
    corpus: _Corpus,
    table: _Table,
    model_features: Collection[str] | None,
) -> Theme:
    members = group.members
    n = len(overrides)
    top = _top_terms(corpus, members, n, MAX_FIELD_TERMS)
    surfaces = _surfaces(corpus, reasons, members)
    keywords = [surfaces.term(t) for t in top[:MAX_KEYWORDS]]
    words = {w for t in top for w in t.split(" ")}
    label = (
        ", ".join(keywords[:3])
        if keywords
        else (_shorten(reasons[int(members[0])].strip()) or "(no reason given)")
    )
    actions = Counter(
        overrides[int(i)].proposed_action for i in members if overrides[int(i)].proposed_action
    )
    proposed: str | None = None
    share_of_action: float | None = None
    if actions:
        proposed, k = min(actions.items(), key=lambda kv: (-kv[1], kv[0]))
        share_of_action = k / action_totals[proposed]
    return Theme(
        label=label,
        keywords=keywords,
        count=len(members),
        share=len(members) / n,
        proposed_action=proposed,
        share_of_action_overrides=share_of_action,
        conditions=[c.text for c in group.conditions],
        suggested_feature=_suggested_feature(group.conditions, words, table, model_features),
        examples=_examples(corpus, reasons, group),
        members=[int(i) for i in members],
    )


def mine_themes(
    overrides: Sequence[OverrideSample],
    others: Sequence[dict[str, Any]],
    model_features: Collection[str] | None,
    *,
    seed: int = 7,
    max_themes: int = 8,
    embedder: Embedder | None = None,
) -> list[Theme]:
    """The concerns behind a window's overrides, largest share first (see the module
    docstring). `others`: payloads of the workflow's other decided items (the
    contrast for conditions); `model_features`: the flattened payload fields the
    active model uses (None: no active model); `embedder`: optional sentence
    embedder (texts -> vectors) to merge clusters that mean the same."""
    if len(overrides) == 0 or max_themes <= 0:
        return []
    # One BLAS / OpenMP thread: on a busy machine (the job runs beside the API
    # server) multithreaded LAPACK on small matrices can be 10x slower, not faster.
    with threadpool_limits(limits=THREADS):
        return _mine(overrides, others, model_features, seed, max_themes, embedder)


def _mine(
    overrides: Sequence[OverrideSample],
    others: Sequence[dict[str, Any]],
    model_features: Collection[str] | None,
    seed: int,
    max_themes: int,
    embedder: Embedder | None,
) -> list[Theme]:
    n = len(overrides)
    reasons = [o.reason or "" for o in overrides]
    table = _Table([o.payload for o in overrides], others)
    contrast = _Contrast(table, n, len(others))
    # the actions' own names ("Decline: too young") say nothing about the concern
    actions = {a for o in overrides for a in (o.proposed_action, o.chosen_action) if a}
    action_words = {t for a in actions for t in tokens(a)}
    corpus = _corpus(reasons, action_words)
    action_totals = Counter(o.proposed_action for o in overrides if o.proposed_action)
    merger = _Merger(contrast, corpus, reasons, embedder, seed)

    if n <= 2:
        groups = [merger.group([np.arange(n)])]
    else:
        row_labels = _cluster_rows(corpus, seed)
        labels = row_labels[corpus.row_of]
        clusters = [np.flatnonzero(labels == k) for k in np.unique(labels[labels >= 0])]
        contrast.family = max(1, len(clusters))
        groups = merger.merge_all([merger.group(merger.pieces(c)) for c in clusters if len(c)])
        groups = merger.merge_all(merger.reassign(groups))
        groups = [g for g in groups if _worth_reporting(g, corpus, n)]
    groups.sort(key=lambda g: (-len(g.members), int(g.members[0])))
    themes = [
        _theme(g, overrides, reasons, action_totals, corpus, table, model_features)
        for g in groups[:max_themes]
    ]
    themes.sort(key=lambda t: (-t.count, t.label))
    return themes


def load_embedder() -> Embedder | None:
    """An offline sentence embedder from an optional package, or None.

    WordLlama ships its default model (l2_supercat, 256 dimensions, 16 MB) and
    tokenizer inside its PyPI wheel. Its loader looks for the tokenizer in a
    folder it misnames and then tries to download it, so the package's own
    folder is given as the cache and downloads are disabled: it loads offline
    or not at all. Enable with `pip install wordllama`, then
    `mine_themes(..., embedder=load_embedder())`."""
    try:
        from pathlib import Path

        import wordllama  # type: ignore[import-not-found]

        model = wordllama.WordLlama.load(
            cache_dir=Path(wordllama.__file__).parent, disable_download=True
        )
    except Exception:  # not installed, or its files are not there
        return None

    def embed(texts: Sequence[str]) -> Any:
        return model.embed(list(texts), norm=True)

    return embed
