"""The reasons as text (step 1): normalised, deduplicated, weighted, as tf-idf rows.

Each reason is normalised (ml.text: lowercase, numbers and number words -> NUM, stop
words out, light stemming) into unigrams and bigrams; the words of the action names
("Decline: ...") are dropped. Identical normalised reasons are one row with a weight.
A term must occur in at least `min_term_count` overrides; binary tf x smoothed idf,
rows L2-normalised.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer

from ml.text import terms, tokens
from ml.themes.settings import ThemeSettings


@dataclass
class Corpus:
    """Unique normalised reasons (rows) with their multiplicity, and the term matrix."""

    row_of: np.ndarray  # override index -> row
    weights: np.ndarray  # row -> number of overrides
    binary: sp.csr_matrix  # rows x terms, 0/1
    tfidf: sp.csr_matrix  # rows x terms, L2-normalised (zero rows: no usable term)
    vocabulary: list[str]
    first: np.ndarray  # row -> first override index with it


def build_corpus(
    reasons: Sequence[str], settings: ThemeSettings, drop: Collection[str] = ()
) -> Corpus:
    """The corpus of these reasons, without the tokens in `drop`."""
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
        keep = np.flatnonzero(term_count >= settings.min_term_count)
        if len(keep) > settings.max_vocabulary:
            keep = keep[np.argsort(-term_count[keep], kind="stable")[: settings.max_vocabulary]]
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
    return Corpus(
        row_of, weights, sp.csr_matrix(binary), sp.csr_matrix(tfidf), vocab, np.array(first)
    )


def text_centroid(corpus: Corpus, members: np.ndarray) -> np.ndarray:
    """The normalised mean tf-idf row of these overrides (dense; zero if none has a term)."""
    rows, counts = np.unique(corpus.row_of[members], return_counts=True)
    c = np.asarray(corpus.tfidf[rows].T @ counts.astype(float)).ravel()
    n = np.linalg.norm(c)
    return c / n if n > 0 else c
