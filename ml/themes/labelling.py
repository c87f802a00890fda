"""A theme's words: its keywords and label, and example reasons (step 6).

Keywords are the terms most typical of the theme against the other overrides
(class-based tf-idf on document frequencies), NUM-free, shown in the words the theme's
reasons use; the label is the first three. Examples are the most central reason of each
of the largest pieces, skipping reasons worded like one already chosen.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ml.text import NUM, Surfaces
from ml.themes.corpus import Corpus, text_centroid
from ml.themes.groups import Group
from ml.themes.settings import ThemeSettings

_LABEL_KEYWORDS = 3
_LABEL_MAX_CHARS = 60  # a label made of a reason (no keywords): its start


def top_terms(
    corpus: Corpus, members: np.ndarray, n: int, limit: int, settings: ThemeSettings
) -> list[str]:
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
        if score[t] <= 0 or p_in[t] < settings.min_keyword_share or len(chosen) >= limit:
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


def surfaces(
    corpus: Corpus, reasons: Sequence[str], members: np.ndarray, settings: ThemeSettings
) -> Surfaces:
    """The words the theme's own reasons use (its most frequent distinct ones)."""
    rows, counts = np.unique(corpus.row_of[members], return_counts=True)
    top = np.argsort(-counts, kind="stable")[: settings.surface_rows]
    found = Surfaces()
    for j in top:
        found.add(reasons[int(corpus.first[rows[j]])], int(counts[j]))
    return found


def label(keywords: Sequence[str], reasons: Sequence[str], members: np.ndarray) -> str:
    """The first keywords, or else the start of the theme's first reason."""
    if keywords:
        return ", ".join(keywords[:_LABEL_KEYWORDS])
    return _shorten(reasons[int(members[0])].strip()) or "(no reason given)"


def _shorten(text: str, limit: int = _LABEL_MAX_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def examples(
    corpus: Corpus, reasons: Sequence[str], group: Group, settings: ThemeSettings
) -> list[str]:
    """The most central reason of each of the theme's largest pieces, skipping
    those worded like one already chosen, so that the examples show its phrasings."""
    s = settings
    ranked: list[list[int]] = []  # per piece, its most central distinct reasons
    for piece in group.clusters[: s.example_pieces]:
        rows, first = np.unique(corpus.row_of[piece], return_index=True)
        centroid = text_centroid(corpus, piece)
        if centroid.size:
            sims = np.asarray(corpus.tfidf[rows] @ centroid).ravel()
            order = np.lexsort((rows, -sims))
        else:
            order = np.arange(len(rows))
        ranked.append([int(piece[first[j]]) for j in order[: s.max_examples]])
    candidates = [r[depth] for depth in range(s.max_examples) for r in ranked if depth < len(r)]
    out: list[str] = []
    chosen_rows: list[int] = []
    for strict in (True, False):
        for i in candidates:
            text = reasons[i].strip()
            row = int(corpus.row_of[i])
            if not text or text in out or len(out) >= s.max_examples:
                continue
            if strict and chosen_rows and corpus.tfidf.shape[1]:
                sims = np.asarray(corpus.tfidf[chosen_rows] @ corpus.tfidf[row].T.toarray()).ravel()
                if sims.max() >= s.example_max_similarity:
                    continue
            out.append(text)
            chosen_rows.append(row)
    return out
