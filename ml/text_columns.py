"""Free-text payload fields for the classifier: which string fields are text, how their
values become columns, and how a text field's contribution is put in words.

Which fields are text (`is_free_text`), over the string values of a field in the training
rows (each counted as often as it occurs):

    at least TEXT_MIN_VALUES (20) values,
    at least TEXT_MIN_DISTINCT (50%) of them distinct (a value seen twice counts once),
    TEXT_MIN_MEAN_CHARS (20) characters on average, and
    TEXT_MIN_MEAN_WORDS (3) whitespace-separated words on average.

So a post, a comment or a note is text; a status, a country or a product name (short or
repeated) stays a categorical, and so does an id (long and distinct, but one word).

A text field's columns (`text_block`) are the draft scorer's (ml.text_features): its hand
features, then word unigrams and bigrams and character 3- to 5-grams hashed into
`n_hash` columns each, as raw counts. TEXT_N_HASH is the n_hash of new text fields; it
is stored in the spec with each field, so scoring hashes exactly as training did. A
missing value (or one of another type) is an empty text: all zeros.

`strongest_phrases` explains: the field's contribution is the sum of its columns'
(SHAP values add up), and its value is the runs of words in the item whose n-grams
pushed the prediction hardest towards the class chosen, e.g. "'double your bitcoin'".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from ml.text_features import chunk_columns, n_columns, text_features

TEXT_MIN_VALUES = 20
TEXT_MIN_DISTINCT = 0.5
TEXT_MIN_MEAN_CHARS = 20.0
TEXT_MIN_MEAN_WORDS = 3.0
TEXT_N_HASH = 256
PHRASE_SHARE = 0.3  # a word joins a phrase if it pushes at least 30% as hard as the top one
MAX_PHRASES = 3
MAX_PHRASE_WORDS = 6
_BREAKS = frozenset(".,;:!?")


def is_free_text(counts: Iterable[tuple[str, int]]) -> bool:
    """Whether a field whose string values occur this often (value, count) is free text
    (the rule is in the module docstring)."""
    total = distinct = chars = words = 0
    for value, count in counts:
        if count <= 0:
            continue
        total += count
        distinct += 1
        chars += count * len(value)
        words += count * len(value.split())
    return (
        total >= TEXT_MIN_VALUES
        and distinct >= TEXT_MIN_DISTINCT * total
        and chars >= TEXT_MIN_MEAN_CHARS * total
        and words >= TEXT_MIN_MEAN_WORDS * total
    )


def text_width(n_hash: int) -> int:
    """The columns of one text field."""
    return n_columns(n_hash)


def text_block(values: Sequence[Any], n_hash: int) -> sp.csr_matrix:
    """The text columns of one field, a row per value (CSR float64); each distinct string
    is featurised once, anything but a string is an empty text."""
    index: dict[str, int] = {}
    codes = np.empty(len(values), dtype=np.intp)
    for i, value in enumerate(values):
        if isinstance(value, str):
            codes[i] = index.setdefault(value, len(index))
        else:
            codes[i] = -1
    return strings_block(list(index), codes, n_hash)


def strings_block(strings: Sequence[str], codes: np.ndarray, n_hash: int) -> sp.csr_matrix:
    """Rows for string codes (an index into `strings`, -1 for no text)."""
    width = text_width(n_hash)
    distinct = text_features(strings, n_hash) if strings else sp.csr_matrix((0, width))
    table = sp.vstack([distinct, sp.csr_matrix((1, width))], format="csr")  # last: empty
    rows = np.where(codes < 0, len(strings), codes)
    return table[rows]


def strongest_phrases(text: str, contributions: np.ndarray, n_hash: int) -> list[str]:
    """The runs of words of `text` whose n-grams pushed the most in the direction of the
    field's total contribution (`contributions`: its columns', in text_block order).

    A column's contribution is shared among the words whose n-grams it counts, by
    occurrences; words pushing at least PHRASE_SHARE as hard as the strongest one are
    kept, and consecutive kept words make a phrase (at most MAX_PHRASE_WORDS, the
    strongest MAX_PHRASES phrases, strongest first). Empty if no word pushes that way."""
    total = float(contributions.sum())
    if total == 0.0:
        return []
    sign = 1.0 if total > 0 else -1.0
    chunks, per_chunk = chunk_columns(text, n_hash)
    occurrences: dict[int, float] = {}
    for columns in per_chunk:
        for column, credit in columns.items():
            occurrences[column] = occurrences.get(column, 0.0) + credit
    scores = [
        sign
        * sum(float(contributions[c]) * credit / occurrences[c] for c, credit in columns.items())
        for columns in per_chunk
    ]
    top = max(scores, default=0.0)
    if top <= 0.0:
        return []
    kept = [s >= PHRASE_SHARE * top for s in scores]
    phrases: list[tuple[float, str]] = []
    k = 0
    while k < len(chunks):
        if not kept[k]:
            k += 1
            continue
        end = k + 1  # a phrase ends at a sentence's or clause's end
        while (
            end < len(chunks)
            and kept[end]
            and end - k < MAX_PHRASE_WORDS
            and chunks[end - 1][-1] not in _BREAKS
        ):
            end += 1
        words = " ".join(chunks[k:end]).strip(".,;:!?\"'()[]")
        if words:
            phrases.append((sum(scores[k:end]), words))
        k = end
    phrases.sort(key=lambda item: -item[0])
    return [words for _, words in phrases[:MAX_PHRASES]]


def describe(phrases: Sequence[str]) -> str:
    """Phrases as an explanation's value: "'double your bitcoin', 'dm me'"."""
    return ", ".join(f"'{p}'" for p in phrases)
