"""A linear model of one text field: the log-odds of the classes from which word and
character n-grams a text contains, fitted at training time and stored with the spec.

The trees split well on counts and categories but learn a concern written many ways
(frames, synonyms, misspellings) only n-gram by n-gram, from a few examples each; a
linear model over all the n-grams at once puts each text's evidence in one number per
class, which the trees can then combine with the other fields ("an off-platform
invitation is harmful from young accounts"): stacking (ml.text_stacking fits it out of
fold).

The n-grams are those of the hashed columns (ml.text_features.analyzers: lower-cased
word unigrams and bigrams, character 3- to 5-grams within words), but from a vocabulary
kept at training time (no hash collisions): the n-grams in at least MIN_DF rows, at most
MAX_VOCABULARY of them (the most frequent; ties alphabetical). A text's row is the
presence of each vocabulary n-gram it contains, its word n-grams and its character ones
each scaled to unit length, then the row (so a long text is not more certain for being
long, and the many character n-grams do not drown the words); n-grams outside the
vocabulary count for nothing. The model is L2-regularised logistic regression (sklearn,
liblinear), C chosen by cross-fitted log loss; binary: one score, the log-odds of
classes[1]; more classes: one score per class (one-vs-rest log-odds).

`TextModel` is the stored part (plain JSON: each n-gram with its weights, the
intercepts): `scores(texts)` is all scoring needs, and `chunk_pushes` says which words
of a text pushed a class's score, for explanations.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from ml.text_features import analyzers, chunk_grams

MIN_DF = 2
MAX_VOCABULARY = 20_000


@dataclass
class TextModel:
    """Weights per vocabulary n-gram (one per score), kept apart for word and character
    n-grams (the same string can be both), and an intercept per score."""

    words: dict[str, list[float]]
    chars: dict[str, list[float]]
    intercepts: list[float]

    @property
    def width(self) -> int:
        """The scores per text: 1 for two classes, else one per class."""
        return len(self.intercepts)

    def to_json(self) -> dict[str, Any]:
        return {
            "words": {g: list(w) for g, w in self.words.items()},
            "chars": {g: list(w) for g, w in self.chars.items()},
            "intercepts": list(self.intercepts),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TextModel:
        intercepts = [float(v) for v in data["intercepts"]]
        if not intercepts:
            raise ValueError("a text model needs at least one score")
        weights: list[dict[str, list[float]]] = []
        for kind in ("words", "chars"):
            table = {str(g): [float(v) for v in w] for g, w in data[kind].items()}
            if any(len(w) != len(intercepts) for w in table.values()):
                raise ValueError(f"a text model's {kind} weights do not fit its scores")
            weights.append(table)
        return cls(weights[0], weights[1], intercepts)

    def _index(self) -> tuple[dict[str, int], dict[str, int], np.ndarray]:
        """Each n-gram's column, word n-grams then character ones, each sorted (as training
        made them, whatever order the stored JSON kept: PostgreSQL's JSONB reorders
        keys), and the weights by column: the sums of a text's terms run in one order."""
        cached = self.__dict__.get("_cached")
        if cached is None:
            word_grams, char_grams = sorted(self.words), sorted(self.chars)
            words = {g: i for i, g in enumerate(word_grams)}
            chars = {g: len(words) + i for i, g in enumerate(char_grams)}
            rows = [self.words[g] for g in word_grams] + [self.chars[g] for g in char_grams]
            weights = np.array(rows, dtype=np.float64).reshape(len(rows), self.width)
            cached = self.__dict__["_cached"] = (words, chars, weights)
        return cached

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), width): each text's scores (an empty text scores the intercepts)."""
        words, chars, weights = self._index()
        X = presence(texts, words, chars, len(weights))
        return np.asarray(X @ weights) + np.array(self.intercepts)

    def chunk_pushes(self, text: str, score: int) -> tuple[list[str], np.ndarray]:
        """The text's whitespace-separated chunks and how much each moved score `score`
        from the intercept: each vocabulary n-gram's term (weight x its presence value)
        shared among the chunks it came from by their credits. They add up to the score
        minus the intercept."""
        found = chunk_grams(text)
        words, chars, weights = self._index()
        columns = [
            (words if g < found.n_word else chars).get(gram, -1)
            for g, gram in enumerate(found.grams)
        ]
        present = {c for c in columns if c >= 0}
        pushes = np.zeros(len(found.chunks))
        if not present:
            return found.chunks, pushes
        n_words = sum(c < len(words) for c in present)
        word_value, char_value = block_values(n_words, len(present) - n_words)
        credit_of: dict[int, float] = {}
        for g, column in enumerate(columns):
            if column >= 0:
                credit = sum(c for _, c in found.credits[g])
                credit_of[column] = credit_of.get(column, 0.0) + credit
        for g, column in enumerate(columns):
            if column < 0:
                continue
            value = word_value if column < len(words) else char_value
            term = weights[column, score] * value / credit_of[column]
            for k, credit in found.credits[g]:
                pushes[k] += term * credit
        return found.chunks, pushes


def block_values(n_words: int, n_chars: int) -> tuple[float, float]:
    """The value of a present word and of a present character n-gram in a row with these
    many of each: each kind's part of unit length, then the row (both parts 1/sqrt(2))."""
    scale = 1.0 / math.sqrt(2.0) if n_words and n_chars else 1.0
    return (
        scale / math.sqrt(n_words) if n_words else 0.0,
        scale / math.sqrt(n_chars) if n_chars else 0.0,
    )


def grams_of(text: str) -> tuple[set[str], set[str]]:
    """The distinct word and character n-grams of a text."""
    word_analyzer, char_analyzer = analyzers()
    return set(word_analyzer(text)), set(char_analyzer(text))


def presence(
    texts: Sequence[str], words: Mapping[str, int], chars: Mapping[str, int], width: int
) -> sp.csr_matrix:
    """Rows of unit length: which vocabulary n-grams (column indices `words`, `chars`)
    each text contains (`block_values`)."""
    indptr = [0]
    indices: list[int] = []
    values: list[float] = []
    for text in texts:
        word_grams, char_grams = grams_of(text)
        found_words = sorted({words[g] for g in word_grams if g in words})
        found_chars = sorted({chars[g] for g in char_grams if g in chars})
        word_value, char_value = block_values(len(found_words), len(found_chars))
        indices.extend(found_words + found_chars)
        values.extend([word_value] * len(found_words) + [char_value] * len(found_chars))
        indptr.append(len(indices))
    return sp.csr_matrix(
        (np.array(values, dtype=np.float64), np.array(indices, dtype=np.int64), indptr),
        shape=(len(texts), width),
    )


class GramIndex:
    """Training's view of many texts' n-grams: each distinct (kind, n-gram) numbered once,
    a 0/1 row of them per text, so that vocabularies and presence rows for any subset of
    the rows are array operations (`presence` gives the same rows for the same
    vocabulary, from the texts themselves, at scoring time)."""

    def __init__(self, texts: Sequence[str]) -> None:
        word_analyzer, char_analyzer = analyzers()
        blocks = []
        self.keys: list[tuple[int, str]] = []
        for kind, analyzer in enumerate((word_analyzer, char_analyzer)):
            numbered: defaultdict[str, int] = defaultdict()
            numbered.default_factory = numbered.__len__  # a new n-gram: the next number
            indptr = [0]
            indices: list[int] = []
            for text in texts:
                indices.extend(sorted({numbered[g] for g in analyzer(text)}))
                indptr.append(len(indices))
            blocks.append(
                sp.csr_matrix(
                    (np.ones(len(indices)), np.array(indices, dtype=np.int64), indptr),
                    shape=(len(texts), len(numbered)),
                )
            )
            self.keys.extend((kind, g) for g in numbered)
        self.matrix = sp.hstack(blocks, format="csr")

    def vocabulary(self, counts: np.ndarray) -> tuple[list[str], list[str], np.ndarray]:
        """The n-grams in at least MIN_DF rows when text i occurs counts[i] times, the
        MAX_VOCABULARY most frequent (ties by kind, then alphabetical): word n-grams, then
        character ones, each sorted, and their numbers in this index, in that order."""
        df = np.asarray(self.matrix.T @ counts.astype(np.float64)).ravel()
        common = np.flatnonzero(df >= MIN_DF)
        ranked = sorted(common.tolist(), key=lambda i: (-df[i], self.keys[i]))
        kept = sorted(ranked[:MAX_VOCABULARY], key=self.keys.__getitem__)
        words = [self.keys[i][1] for i in kept if self.keys[i][0] == 0]
        chars = [self.keys[i][1] for i in kept if self.keys[i][0] == 1]
        return words, chars, np.array(kept, dtype=np.intp)

    def presence(self, kept: np.ndarray) -> sp.csr_matrix:
        """Each text's row over the vocabulary of `kept` n-grams (`vocabulary`), of unit
        length, as `presence` computes it."""
        rows = sp.csr_matrix(self.matrix[:, kept])
        rows.sort_indices()
        nnz = np.diff(rows.indptr)
        is_char = np.array([self.keys[i][0] == 1 for i in kept.tolist()], dtype=bool)
        char_at = is_char[rows.indices]
        row_of = np.repeat(np.arange(rows.shape[0]), nnz)
        n_chars = np.bincount(row_of, weights=char_at, minlength=rows.shape[0]).astype(np.int64)
        n_words = nnz - n_chars
        scale = np.where((n_words > 0) & (n_chars > 0), 1.0 / math.sqrt(2.0), 1.0)
        word_value = scale / np.sqrt(np.maximum(n_words, 1))
        char_value = scale / np.sqrt(np.maximum(n_chars, 1))
        rows.data = np.where(char_at, char_value[row_of], word_value[row_of])
        return rows
