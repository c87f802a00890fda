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

When training fits the field's linear model (ml.text_model, ml.text_stacking), its
scores end the block: one column for two classes, else one per class.

`strongest_phrases` explains: the field's contribution is the sum of its columns'
(SHAP values add up), and its value is the runs of words in the item whose n-grams
pushed the prediction hardest towards the class chosen, e.g. "'double your bitcoin'":
through the hashed columns and through the linear model's scores.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from ml.text_features import chunk_columns, n_columns, text_features
from ml.text_model import TextModel

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


def text_block(values: Sequence[Any], n_hash: int, model: TextModel | None = None) -> sp.csr_matrix:
    """The text columns of one field, a row per value (CSR float64): its n-gram columns,
    then the model's scores if it has one. Each distinct string is featurised once,
    anything but a string is an empty text."""
    index: dict[str, int] = {}
    codes = np.empty(len(values), dtype=np.intp)
    for i, value in enumerate(values):
        if isinstance(value, str):
            codes[i] = index.setdefault(value, len(index))
        else:
            codes[i] = -1
    return strings_block(list(index), codes, n_hash, model)


def strings_block(
    strings: Sequence[str], codes: np.ndarray, n_hash: int, model: TextModel | None = None
) -> sp.csr_matrix:
    """Rows for string codes (an index into `strings`, -1 for no text)."""
    width = text_width(n_hash)
    distinct = text_features(strings, n_hash) if strings else sp.csr_matrix((0, width))
    table = sp.vstack([distinct, sp.csr_matrix((1, width))], format="csr")  # last: empty
    if model is not None:
        scores = model.scores([*strings, ""])
        table = sp.hstack([table, sp.csr_matrix(scores)], format="csr")
    rows = np.where(codes < 0, len(strings), codes)
    return table[rows]


def score_signs(n_classes: int, chosen: int) -> list[float]:
    """How a text model's scores bear on the chosen class: a binary model's one score is
    the log-odds of class 1 (+1 for class 1, -1 for class 0); with more classes, a class's
    own score raises it and the others' lower it."""
    if n_classes == 2:
        return [1.0 if chosen == 1 else -1.0]
    return [1.0 if j == chosen else -1.0 for j in range(n_classes)]


def strongest_phrases(
    text: str,
    contributions: np.ndarray,
    n_hash: int,
    model: TextModel | None = None,
    signs: Sequence[float] = (),
) -> list[str]:
    """The runs of words of `text` whose n-grams pushed the most in the direction of the
    field's total contribution (`contributions`: its columns', in text_block order).

    A hashed column's contribution is shared among the words whose n-grams it counts, by
    occurrences. A text model's score j (`signs[j]`: how it bears on the class explained,
    see `score_signs`) is shared among the words by how much each moved it
    (TextModel.chunk_pushes), in proportion to its contribution's size: the trees are
    taken to read a higher score as more of its class. Words pushing at least
    PHRASE_SHARE as hard as the strongest one are kept, and consecutive kept words make a
    phrase (at most MAX_PHRASE_WORDS, the strongest MAX_PHRASES phrases, strongest
    first). Empty if no word pushes that way."""
    total = float(contributions.sum())
    if total == 0.0:
        return []
    sign = 1.0 if total > 0 else -1.0
    chunks, per_chunk = chunk_columns(text, n_hash)
    occurrences: dict[int, float] = {}
    for columns in per_chunk:
        for column, credit in columns.items():
            occurrences[column] = occurrences.get(column, 0.0) + credit
    pushed = np.array(
        [
            sum(float(contributions[c]) * credit / occurrences[c] for c, credit in columns.items())
            for columns in per_chunk
        ]
    )
    if model is not None:
        hashed = text_width(n_hash)
        for j in range(model.width):
            _, pushes = model.chunk_pushes(text, j)
            size = float(np.abs(pushes).sum())
            if size > 0.0:
                pushed += signs[j] * abs(float(contributions[hashed + j])) * pushes / size
    scores = (sign * pushed).tolist()
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
