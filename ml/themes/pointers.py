"""What in a reason's words points at a payload field (used by suggestions and labels).

A reason points at a field when it
- uses a word of the field's own name ("years" -> company_age_years, "unverified" ->
  identity_verified; the last dotted part, generic words such as "id" or "count" aside),
- names the value of the theme's "field = value" condition ("healthcare" -> industry),
- quotes the item's own value of a numeric field or the condition's threshold ("founded
  1.2 years ago" where company_age_years is 1.2; "under two years old" for "< 2"), or
- uses a word of the condition's direction ("young", "under", "new" for "<"; "high",
  "over", "excessive" for ">"), which is plain English, not a list for one world: it
  says a threshold is what people have in mind, not which field.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ml.text import NUM, stem, tokens_with_surface
from ml.themes.conditions import Condition
from ml.themes.payloads import Column

_FIELD_WORD = re.compile(r"[a-z]+")
_GENERIC_FIELD_WORDS = frozenset({"id", "is", "has", "the", "num", "count", "value", "length"})

# Adjectives that describe a small or a large value. BARE ones carry their meaning on
# their own in a label ("young healthcare companies"); the others need the field's name
# ("high debt ratio").
LOW_ADJECTIVES = ("young", "new", "recent", "early", "low", "small", "short", "few", "little")
HIGH_ADJECTIVES = ("high", "large", "big", "heavy", "excessive", "long", "late")
BARE_ADJECTIVES = frozenset(stem(w) for w in ("young", "new", "recent", "early"))
_LOW_WORDS = frozenset(
    stem(w) for w in (*LOW_ADJECTIVES, "under", "less", "below", "fewer", "lower", "insufficient")
)
_HIGH_WORDS = frozenset(
    stem(w) for w in (*HIGH_ADJECTIVES, "over", "more", "above", "higher", "much", "heavily")
)
DIRECTION_WORDS = {"<": _LOW_WORDS, ">": _HIGH_WORDS}

_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[a-z]+")
_NUMBER_WORDS = {
    "one": 1.0, "two": 2.0, "three": 3.0, "four": 4.0, "five": 5.0, "six": 6.0,
    "seven": 7.0, "eight": 8.0, "nine": 9.0, "ten": 10.0, "eleven": 11.0, "twelve": 12.0,
    "twenty": 20.0, "thirty": 30.0, "fifty": 50.0, "hundred": 100.0, "half": 0.5,
    "dozen": 12.0,
}  # fmt: skip
_QUOTE_TOLERANCE = 0.05  # a quoted number within 5% of the value is the value, rounded


def field_words(name: str) -> set[str]:
    """The stemmed words of a field's own name (the last dotted part: "owner.age" -> age)."""
    leaf = name.lower().rsplit(".", 1)[-1]
    return {
        stem(w) for w in _FIELD_WORD.findall(leaf) if w not in _GENERIC_FIELD_WORDS and len(w) >= 3
    }


def value_words(value: str) -> set[str]:
    """The stemmed words of a category value ("healthcare" -> {"healthcare"})."""
    return {stem(w) for w in _FIELD_WORD.findall(value.lower()) if len(w) >= 3}


def same_word(field_word: str, word: str) -> bool:
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


@dataclass(frozen=True)
class Reason:
    """A reason's tokens, each with the word as written, and the numbers it quotes,
    each with the word before it (None when that is a stop word or absent)."""

    words: tuple[tuple[str, str], ...]
    numbers: tuple[tuple[float, str | None], ...]


@lru_cache(maxsize=65536)
def read_reason(text: str) -> Reason:
    """The reason's words and quoted numbers ("founded 1.2 years" -> 1.2 after "founded")."""
    words = tuple((t, w) for t, w in tokens_with_surface(text) if t != NUM)
    numbers: list[tuple[float, str | None]] = []
    before: str | None = None  # the last word that is not a stop word, since a number
    for raw in _TOKEN.findall(text.lower()):
        value = _NUMBER_WORDS.get(raw) if raw.isalpha() else _parse_number(raw)
        if value is not None:
            numbers.append((value, before))
            before = None
            continue
        kept = tokens_with_surface(raw)
        if kept and kept[-1][0] != NUM:
            before = kept[-1][1]
    return Reason(words, tuple(numbers))


def _parse_number(raw: str) -> float | None:
    parts = raw.split(",")
    if len(parts) > 1 and all(len(p) == 3 for p in parts[1:]):
        raw = "".join(parts)  # "150,000"
    else:
        raw = raw.replace(",", ".")
    try:
        return float(raw)
    except ValueError:  # "1.2.3"
        return None


def _quotes(number: float, value: float) -> bool:
    if math.isnan(value):
        return False
    for candidate in (number, number / 100.0):  # "87%" of a ratio of 0.87
        if abs(candidate - value) <= _QUOTE_TOLERANCE * max(abs(value), 1e-9):
            return True
    return False


@dataclass(frozen=True)
class Pointing:
    """Which of a theme's reasons point at one field, and the words that do."""

    share: float  # of the theme's reasons
    words: list[str]  # the words people wrote, commonest first


def pointing(
    column: Column | None,
    name: str,
    conditions: Sequence[Condition],
    reasons: Sequence[str],
    members: np.ndarray,
    levels: Sequence[str] = (),
) -> Pointing:
    """How the theme's reasons point at the field `name` (see the module docstring);
    `conditions`: the theme's conditions on this field, `levels`: their "=" values."""
    names = field_words(name)
    values = set().union(*(value_words(v) for v in levels)) if levels else set()
    directions = set().union(*(DIRECTION_WORDS.get(c.op, frozenset()) for c in conditions))
    thresholds = [float(c.value) for c in conditions if c.op in ("<", ">")]
    numeric = column is not None and column.numeric
    found: Counter[str] = Counter()
    hits = 0
    for i in members:
        reason = read_reason(reasons[int(i)] or "")
        seen: set[str] = set()
        for tok, written in reason.words:
            if tok in values or tok in directions or any(same_word(f, tok) for f in names):
                seen.add(written)
        quoted = False
        if numeric and reason.numbers:
            assert column is not None
            own = float(column.inside[int(i)])
            for number, before in reason.numbers:
                if _quotes(number, own) or number in thresholds:
                    quoted = True
                    if before is not None:
                        seen.add(before)
        hits += int(bool(seen) or quoted)
        found.update(seen)
    words = [w for w, _ in sorted(found.items(), key=lambda kv: (-kv[1], kv[0]))]
    return Pointing(hits / max(1, len(members)), words)
