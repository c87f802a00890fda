"""The payload field a theme suggests the model should use (step 6).

The strongest condition field the active model does not use (a feature named the field,
"field=..." or "field...." counts as using it), else a field whose own name (last dotted
part) shares a word with the theme's top terms ("unverified" -> "identity_verified");
with no active model (None), the strongest condition field.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence

from ml.text import stem
from ml.themes.conditions import Condition
from ml.themes.payloads import PayloadTable

_FIELD_WORD = re.compile(r"[a-z]+")
_GENERIC_FIELD_WORDS = frozenset({"id", "is", "has", "the", "num", "count", "value", "length"})


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


def suggested_feature(
    conditions: Sequence[Condition],
    words: Collection[str],
    table: PayloadTable,
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
