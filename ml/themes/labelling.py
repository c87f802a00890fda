"""A theme's words: its keywords and label, and example reasons (step 6).

Keywords are the terms most typical of the theme against the other overrides
(class-based tf-idf on document frequencies), NUM-free, shown in the words the theme's
reasons use. The label is a short phrase made of the theme's conditions and its reasons'
words ("young healthcare companies"), or its most central reason as written. Examples are
the most central reason of each of the largest pieces, skipping reasons worded like one
already chosen.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

from ml.text import NUM, Surfaces, stem
from ml.themes.conditions import Condition
from ml.themes.corpus import Corpus, text_centroid
from ml.themes.groups import Group
from ml.themes.payloads import PayloadTable
from ml.themes.pointers import BARE_ADJECTIVES, HIGH_ADJECTIVES, LOW_ADJECTIVES, read_reason
from ml.themes.settings import ThemeSettings
from ml.themes.text import either

_LABEL_CONDITIONS = 3  # a label names at most this many conditions
_LABEL_WORDS = 3  # and at most this many words of a text condition
_GENERIC = frozenset({"has", "is", "num"})
_LEAD = re.compile(r"^\w+\s*[:.\-]\s+")  # "Decline: ", "No. ", "declined - "
_TRAIL = re.compile(r"(\s*\([^)]*\))?[\s.!?;,]*$")  # " (see notes)", "!"
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


def label(
    conditions: Sequence[Condition],
    table: PayloadTable,
    corpus: Corpus,
    reasons: Sequence[str],
    members: np.ndarray,
    settings: ThemeSettings,
) -> str:
    """A short phrase for the theme: from its conditions and the words of its reasons
    ("young healthcare companies", "retail with high debt ratio"), or, without
    conditions, its most central reason as written ("model ignores seasonality")."""
    phrase = _condition_phrase(conditions[:_LABEL_CONDITIONS], table, reasons, members, settings)
    return phrase or _said(corpus, reasons, members) or "(no reason given)"


def _condition_phrase(
    conditions: Sequence[Condition],
    table: PayloadTable,
    reasons: Sequence[str],
    members: np.ndarray,
    settings: ThemeSettings,
) -> str:
    """Adjectives, then category values, then a noun, then "with ..." parts: a numeric
    condition is the adjective its reasons use most ("young" for "< 2"), or "high" /
    "low" and the field's name; a yes/no field its participle ("unverified"); a category
    its value ("healthcare", "non-US"); the noun a dotted prefix ("applicant") or the
    first word of a field named by a plain adjective ("company" of company_age_years); a
    text condition "with text mentioning bitcoin, btc or eth"."""
    adjectives: list[str] = []
    values: list[str] = []
    withs: list[str] = []
    nouns: list[str] = []
    min_share = settings.min_keyword_share
    for c in conditions:
        leaf = c.field.rsplit(".", 1)[-1]
        if "." in c.field:
            nouns.append(c.field.rsplit(".", 1)[0].rsplit(".", 1)[-1])
        name = leaf.replace("_", " ").strip()
        if c.op == "mentions":  # "text mentioning bitcoin, btc or eth"
            withs.append(f"{name} mentioning {either(list(c.words[:_LABEL_WORDS]))}")
            continue
        if c.op in ("<", ">"):
            adjective = _adjective(c.op, reasons, members, min_share)
            if adjective is not None and stem(adjective) in BARE_ADJECTIVES:
                adjectives.append(adjective)
                entity = leaf.split("_")[0]
                if "_" in leaf and _share_saying(entity, reasons, members) >= min_share:
                    nouns.append(entity)
            else:
                withs.append(f"{adjective or ('low' if c.op == '<' else 'high')} {name}")
            continue
        level = table.by_name[c.field].levels[int(c.value)]
        if level in ("true", "false"):
            positive = (level == "true") == (c.op == "=")
            last = name.split(" ")[-1]
            if last.endswith("ed"):
                adjectives.append(last if positive else f"un{last}")
            else:
                bare = " ".join(w for w in name.split(" ") if w not in _GENERIC)
                withs.append(bare if positive else f"no {bare}")
            continue
        value = level.replace("_", " ")
        values.append(value if c.op == "=" else f"non-{value}")
    head = [*dict.fromkeys(adjectives), *values]
    if nouns:
        head.append(_plural(nouns[0].replace("_", " ")))
    if not head:
        return " and ".join(withs)
    return " ".join(head) + (" with " + " and ".join(withs) if withs else "")


def _adjective(
    op: str, reasons: Sequence[str], members: np.ndarray, min_share: float
) -> str | None:
    """The adjective of this direction that most of the theme's reasons use, as written."""
    stems = {stem(w) for w in (LOW_ADJECTIVES if op == "<" else HIGH_ADJECTIVES)}
    counts: Counter[str] = Counter()
    for i in members:
        counts.update({w for t, w in read_reason(reasons[int(i)] or "").words if t in stems})
    if not counts:
        return None
    word, k = min(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return word if k >= min_share * len(members) else None


def _share_saying(word: str, reasons: Sequence[str], members: np.ndarray) -> float:
    s = stem(word)
    said = sum(any(t == s for t, _ in read_reason(reasons[int(i)] or "").words) for i in members)
    return said / max(1, len(members))


def _plural(noun: str) -> str:
    if noun.endswith("y") and noun[-2:-1] not in ("a", "e", "i", "o", "u"):
        return noun[:-1] + "ies"
    if noun.endswith(("s", "x", "ch", "sh")):
        return noun + "es"
    return noun + "s"


def _said(corpus: Corpus, reasons: Sequence[str], members: np.ndarray) -> str:
    """The theme's most central reason as written, without a one-word lead ("Decline:")
    or trailing punctuation."""
    rows, first, counts = np.unique(corpus.row_of[members], return_index=True, return_counts=True)
    centroid = text_centroid(corpus, members)
    if centroid.size and np.any(centroid):
        sims = np.asarray(corpus.tfidf[rows] @ centroid).ravel()
        j = int(np.lexsort((rows, -counts, -sims))[0])
    else:
        j = int(np.lexsort((rows, -counts))[0])
    text = _LEAD.sub("", reasons[int(members[first[j]])].strip())
    return _shorten(_TRAIL.sub("", text).strip())


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
