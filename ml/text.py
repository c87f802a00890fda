"""Normalising short free-text reasons so that phrasing variants share tokens.

`tokens(text)` lowercases, splits off numbers and units ("1.2yrs" -> "<num>",
"year"), turns every number, written in digits or in words ("two", "a dozen"),
into the one token NUM, drops stop words (but keeps negations and comparisons:
"not", "no", "under", "less", "over", ...) and strips common English suffixes
with a light stemmer ("companies" -> "company", "founded" -> "found",
"verified" -> "verify"). So "founded 1.2 years ago" and "founded 3 yrs ago"
give the same tokens, and "under two years old" shares "under", NUM, "year"
and "old" with "under 2 years old".

`terms(tokens)` adds the bigrams. `Surfaces` remembers, for each token, the
word people wrote most often, so that a theme's keywords read as words again.

Pure Python (standard library only); no model, nothing loaded at import time.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from itertools import pairwise

NUM = "<num>"
NUM_SURFACE = "N"

_NUMBER_TEXT = """zero one two three four five six seven eight nine ten eleven twelve thirteen
    fourteen fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty
    seventy eighty ninety hundred thousand million billion half dozen couple"""
_NUMBER_WORDS = frozenset(_NUMBER_TEXT.split())

_STOP_TEXT = """a an the and or but if then so as at by for from in into of on onto to with within
    is are was were be been being am do does did doing has have had having will would
    shall should can could may might must it its it's this that these those there here
    i me my we us our you your he him his she her they them their what which who whom
    whose when where why how all any both each some such own same other than too very
    just also only still even yet again already about per via etc eg ie re
    really quite rather bit lot lots much many seems seem looks look get got
    s t d ll ve m"""
_STOP_WORDS = frozenset(_STOP_TEXT.split())
# Deliberately NOT stop words: not no nor never without under over less more few
# least most below above before after since until ago new old.

_UNITS = {
    "y": "year",
    "yr": "year",
    "yrs": "year",
    "yo": "year",
    "mo": "month",
    "mos": "month",
    "mth": "month",
    "mths": "month",
    "wk": "week",
    "wks": "week",
    "d": "day",
    "%": "percent",
    "pct": "percent",
    "k": "",
    "m": "",
    "mm": "",
    "bn": "",
    "st": "",
    "nd": "",
    "rd": "",
    "th": "",
    "x": "",
}

_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("ational", "ate"),
    ("ization", "ize"),
    ("fulness", "ful"),
    ("iveness", "ive"),
    ("ously", "ous"),
    ("ments", "ment"),
    ("ality", "al"),
    ("sses", "ss"),
    ("ies", "y"),
    ("ied", "y"),
    ("ing", ""),
    ("edly", ""),
    ("ed", ""),
    ("ly", ""),
    ("es", "e"),
    ("s", ""),
)

_WORD = re.compile(r"\d+(?:[.,]\d+)*(?:[a-z]+|%)?|[a-z]+(?:'[a-z]+)?|%")
_NUMBER_WITH_UNIT = re.compile(r"(\d+(?:[.,]\d+)*)([a-z]+|%)?")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light suffix stripper (not Porter): enough to join plural and tense variants."""
    if len(word) <= 3:
        return word
    for suffix, replacement in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                continue
            word = word[: -len(suffix)] + replacement
            break
    if len(word) > 4 and word.endswith("e"):
        word = word[:-1]
    if len(word) > 4 and word[-1] == word[-2] and word[-1] not in "lsz":
        word = word[:-1]  # "runn" -> "run", "stopp" -> "stop"
    return word


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    return text.replace("\u2019", "'").replace("-", " ").replace("/", " ")


def tokens_with_surface(text: str) -> list[tuple[str, str]]:
    """(normalised token, the word as written, lowercased) pairs, stop words dropped."""
    out: list[tuple[str, str]] = []
    for raw in _WORD.findall(_fold(text)):
        if raw[0].isdigit():
            m = _NUMBER_WITH_UNIT.fullmatch(raw)
            out.append((NUM, NUM_SURFACE))
            unit = m.group(2) if m else None
            if unit:
                mapped = _UNITS.get(unit, unit)
                if mapped:
                    out.append((stem(mapped), mapped))
            continue
        if raw == "%":
            out.append(("percent", "percent"))
            continue
        word = raw.replace("'", "")
        if raw.endswith("n't"):
            out.append(("not", "not"))
            continue
        if word in _NUMBER_WORDS:
            out.append((NUM, NUM_SURFACE))
            continue
        if raw in _STOP_WORDS or word in _STOP_WORDS:
            continue
        unit = _UNITS.get(word)
        if unit is not None:
            if unit:
                out.append((stem(unit), unit))
            continue
        if len(word) < 2:
            continue
        out.append((stem(word), word))
    return out


def tokens(text: str) -> list[str]:
    """The normalised tokens of a reason (see the module docstring)."""
    return [t for t, _ in tokens_with_surface(text)]


def terms(toks: Sequence[str]) -> list[str]:
    """Unigrams and bigrams ("year old"), the bigram joined by one space; repeated
    NUM tokens ("2 or 3 years") collapse to one first."""
    collapsed: list[str] = []
    for t in toks:
        if t == NUM and collapsed and collapsed[-1] == NUM:
            continue
        collapsed.append(t)
    return collapsed + [f"{a} {b}" for a, b in pairwise(collapsed)]


def normalise(text: str) -> str:
    """The normalised tokens joined by spaces: equal for phrasing variants that
    differ only in numbers, case, stop words or inflection."""
    return " ".join(tokens(text))


class Surfaces:
    """For each token, the word people wrote most often; for a term, its words'."""

    def __init__(self) -> None:
        self._seen: dict[str, Counter[str]] = {}

    def add(self, text: str, weight: int = 1) -> None:
        """Count the words of this text, `weight` times."""
        for tok, raw in tokens_with_surface(text):
            self._seen.setdefault(tok, Counter())[raw] += weight

    def word(self, token: str) -> str:
        """The word written most often for this token (ties: alphabetical), else the token."""
        seen = self._seen.get(token)
        if not seen:
            return token
        return min(seen.items(), key=lambda kv: (-kv[1], kv[0]))[0]

    def term(self, term: str) -> str:
        """A term ("year old") in written words."""
        return " ".join(self.word(t) for t in term.split(" "))
