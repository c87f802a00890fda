"""Features of a draft's text (a subject line, a message), for the draft scorer.

`text_features(texts, n_hash)` gives one sparse row per text, columns in this order:

    | hand features (len(TEXT_FEATURE_NAMES)) | word n-grams (n_hash) | character n-grams (n_hash) |

- hand features (dense, TEXT_FEATURE_NAMES, in this order):
    chars               length in characters
    words               number of words (runs of letters, digits, apostrophes)
    digits              number of digit characters
    upper_share         upper-case letters / letters (0.0 without letters)
    caps_words          words of 2+ letters written all in capitals ("FREE", not "I")
    exclamations        number of "!"
    questions           number of "?"
    second_person       "you", "your", "yours", "yourself", "yourselves", "you're", ...
    first_person        "i", "me", "my", "mine", "we", "us", "our", "ours", "i'm", "we're", ...
    has_number          1.0 if the text contains a digit, else 0.0
    emoji               symbol characters: Unicode category "So" (emoji, dingbats, ...)
                        and anything from U+1F000 upwards (emoji newer than Python's
                        Unicode tables)
  Pronouns are matched whole-word and case-insensitively (straight or curly apostrophe).
- word n-grams: unigrams and bigrams of the lower-cased words (single characters
  included, so "5" and "i" count), hashed into n_hash columns;
- character n-grams: 3- to 5-grams within word boundaries (sklearn's "char_wb") of the
  lower-cased text, hashed into another n_hash columns.
Hashed columns hold raw counts (alternate_sign=False, no normalisation): trees split on
"contains this n-gram at least once", which an l2 norm would blur with the text's length
(length is a feature of its own).

Deterministic and stateless: sklearn's HashingVectorizer uses a fixed murmurhash seed, so
the same text gives the same row in any process; nothing is fitted or stored except n_hash.

`chunk_columns(text, n_hash)` goes the other way, for explanations: which columns each
word of the text (as written) put its n-grams in (`chunk_grams`: which n-grams).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction import FeatureHasher
from sklearn.feature_extraction.text import HashingVectorizer

DEFAULT_N_HASH = 2**12

TEXT_FEATURE_NAMES: tuple[str, ...] = (
    "chars",
    "words",
    "digits",
    "upper_share",
    "caps_words",
    "exclamations",
    "questions",
    "second_person",
    "first_person",
    "has_number",
    "emoji",
)

SECOND_PERSON = frozenset(
    {
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "you're",
        "you've",
        "you'll",
        "you'd",
        "ya",
        "y'all",
    }
)
FIRST_PERSON = frozenset(
    {
        "i",
        "me",
        "my",
        "mine",
        "myself",
        "we",
        "us",
        "our",
        "ours",
        "ourselves",
        "i'm",
        "i've",
        "i'll",
        "i'd",
        "we're",
        "we've",
        "we'll",
        "we'd",
    }
)

_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")  # letters/digits, inner apostrophes kept
_WORD_TOKEN = r"(?u)\b\w+\b"  # for the hashed word n-grams: single characters count too
_WORD_TOKEN_RE = re.compile(_WORD_TOKEN)


def n_columns(n_hash: int = DEFAULT_N_HASH) -> int:
    """Width of `text_features(..., n_hash)`."""
    return len(TEXT_FEATURE_NAMES) + 2 * n_hash


def _vectorizers(n_hash: int) -> tuple[HashingVectorizer, HashingVectorizer]:
    if n_hash < 1:
        raise ValueError(f"n_hash must be positive, not {n_hash}")
    words = HashingVectorizer(
        n_features=n_hash,
        analyzer="word",
        token_pattern=_WORD_TOKEN,
        ngram_range=(1, 2),
        lowercase=True,
        alternate_sign=False,
        norm=None,
        dtype=np.float64,
    )
    chars = HashingVectorizer(
        n_features=n_hash,
        analyzer="char_wb",
        ngram_range=(3, 5),
        lowercase=True,
        alternate_sign=False,
        norm=None,
        dtype=np.float64,
    )
    return words, chars


def _is_emoji(char: str) -> bool:
    return ord(char) >= 0x1F000 or unicodedata.category(char) == "So"


def hand_features(text: str) -> list[float]:
    """The dense features of one text, in TEXT_FEATURE_NAMES order."""
    folded = text.replace("\u2019", "'")
    words = _WORD.findall(folded)
    lowered = [w.lower() for w in words]
    letters = [c for c in text if c.isalpha()]
    upper = sum(c.isupper() for c in letters)
    digits = sum(c.isdigit() for c in text)
    caps_words = sum(
        1 for w in words if sum(c.isalpha() for c in w) >= 2 and w.isupper()
    )  # isupper(): no lower-case letters and at least one cased one
    return [
        float(len(text)),
        float(len(words)),
        float(digits),
        upper / len(letters) if letters else 0.0,
        float(caps_words),
        float(text.count("!")),
        float(text.count("?")),
        float(sum(w in SECOND_PERSON for w in lowered)),
        float(sum(w in FIRST_PERSON for w in lowered)),
        1.0 if digits else 0.0,
        float(sum(map(_is_emoji, text))),
    ]


def text_features(texts: Sequence[str], n_hash: int = DEFAULT_N_HASH) -> sp.csr_matrix:
    """CSR float64 matrix (len(texts), n_columns(n_hash)); see the module docstring."""
    texts = [t if isinstance(t, str) else "" for t in texts]
    words, chars = _vectorizers(n_hash)
    if not texts:
        return sp.csr_matrix((0, n_columns(n_hash)), dtype=np.float64)
    dense = np.array([hand_features(t) for t in texts], dtype=np.float64)
    return sp.hstack(
        [sp.csr_matrix(dense), words.transform(texts), chars.transform(texts)],
        format="csr",
        dtype=np.float64,
    )


@lru_cache(maxsize=1)
def analyzers() -> tuple[Callable[[str], list[str]], Callable[[str], list[str]]]:
    """The word and character n-gram analyzers of the hashed columns (text -> its grams,
    in order, repeats kept): what a vocabulary of the same n-grams is built from."""
    words, chars = _vectorizers(1)
    return words.build_analyzer(), chars.build_analyzer()


@dataclass
class ChunkGrams:
    """A text's whitespace-separated chunks (words as written, punctuation attached) and
    its n-grams, word ones first (`n_word`), each with the chunks it came from and the
    credit each gets (a word bigram spanning two chunks credits each with 0.5)."""

    chunks: list[str]
    grams: list[str]
    credits: list[list[tuple[int, float]]]
    n_word: int


def chunk_grams(text: str) -> ChunkGrams:
    """The n-grams of `text_features` (word unigrams and bigrams, then character 3- to
    5-grams within words), each credited to the chunks of the text it came from."""
    _, char_analyzer = analyzers()
    chunks = text.split()
    token_chunk: list[int] = []  # the chunk of each word token, in order
    tokens: list[str] = []
    for k, chunk in enumerate(chunks):
        found = _WORD_TOKEN_RE.findall(chunk.lower())
        tokens.extend(found)
        token_chunk.extend([k] * len(found))
    grams: list[str] = []
    credits: list[list[tuple[int, float]]] = []
    for i, token in enumerate(tokens):
        grams.append(token)
        credits.append([(token_chunk[i], 1.0)])
        if i + 1 < len(tokens):
            grams.append(f"{token} {tokens[i + 1]}")
            credits.append([(token_chunk[i], 0.5), (token_chunk[i + 1], 0.5)])
    n_word = len(grams)
    for k, chunk in enumerate(chunks):
        for gram in char_analyzer(chunk):
            grams.append(gram)
            credits.append([(k, 1.0)])
    return ChunkGrams(chunks, grams, credits, n_word)


def chunk_columns(text: str, n_hash: int) -> tuple[list[str], list[dict[int, float]]]:
    """The text's whitespace-separated chunks (words as written, punctuation attached) and,
    for each, the n-gram columns of `text_features(..., n_hash)` it fills: column -> the
    n-gram occurrences credited to the chunk there (a word bigram spanning two chunks
    credits each with 0.5). Summed over the chunks, a column's credits are the occurrences
    behind its count, so a column's contribution can be shared among the chunks by them.
    Hand-feature columns are not attributed to chunks."""
    if n_hash < 1:
        raise ValueError(f"n_hash must be positive, not {n_hash}")
    found = chunk_grams(text)
    out: list[dict[int, float]] = [{} for _ in found.chunks]
    if not found.grams:
        return found.chunks, out
    hasher = FeatureHasher(n_features=n_hash, input_type="string", alternate_sign=False)
    indices = hasher.transform([[g] for g in found.grams]).indices  # one column per gram
    base = len(TEXT_FEATURE_NAMES)
    for g, index in enumerate(indices.tolist()):
        column = base + index + (0 if g < found.n_word else n_hash)
        for k, credit in found.credits[g]:
            out[k][column] = out[k].get(column, 0.0) + credit
    return found.chunks, out
