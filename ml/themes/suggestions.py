"""The payload fields a theme suggests the model should use, ranked with evidence (step 6).

Candidates: every field of the theme's conditions, and every field whose own name or
category value is among the theme's typical words ("unverified" -> identity_verified);
a free-text field only by its condition ("text mentions bitcoin, btc or eth"), whose
words count as its values (a reason saying "crypto doubling scam" points at a text
that mentions "crypto"), and whose evidence gives each word's share of the theme.
Each is scored 0..1 as the mean of two pieces of evidence:

- separation: how well the field's condition carves the theme out of the contrast,
  its share of the theme minus its share elsewhere (Youden's J; 0 without a condition);
- words: the share of the theme's reasons that point at the field (ml.themes.pointers:
  its name, its value, a quoted value or threshold, a word of the condition's direction).

So a numeric threshold that the words also point at ("company_age_years < 2": "young",
"founded 1.2 years ago", "two years old") ranks above a category that only narrows the
theme ("industry = healthcare"), which the words rarely name; ties go to thresholds.

Whether a field is used: by the active model, a feature named the field, "field=..." or
"field...."; with no active model, by the proposals themselves: the proposed action
depends on the field when the share of some action differs by `proposal_dependence` or
more between the decided items where the field's condition holds and the others (for a
field without a condition: each category, or each quartile of a number, against the
rest). Without the contrast's proposals that cannot be judged, and no field counts as used.
`suggested_feature` is the first ranked field not used.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from domain.learning import SuggestedFeature
from ml.themes.conditions import Condition
from ml.themes.payloads import Column, PayloadTable
from ml.themes.pointers import field_words, pointing, same_word, value_words
from ml.themes.settings import ThemeSettings

_MAX_EVIDENCE_WORDS = 4


@dataclass(frozen=True)
class Proposals:
    """The proposed action of every decided item, as codes (-1: unknown): the overrides
    (in the order of the payload table's `inside`) then the contrast (its `outside`)."""

    codes: np.ndarray
    actions: list[str]

    @classmethod
    def of(cls, overrides: Sequence[str], others: Sequence[str]) -> Proposals:
        """Codes for these proposals (empty strings are unknown)."""
        actions = sorted({a for a in (*overrides, *others) if a})
        index = {a: k for k, a in enumerate(actions)}
        codes = np.array([index.get(a, -1) for a in (*overrides, *others)], dtype=np.int64)
        return cls(codes, actions)


@dataclass(frozen=True)
class ThemeEvidence:
    """What one theme's suggestions are judged from."""

    conditions: Sequence[Condition]
    members: np.ndarray  # override indices
    words: Collection[str]  # stems of the theme's typical terms
    reasons: Sequence[str]  # every override's reason
    table: PayloadTable
    model_features: Collection[str] | None
    proposals: Proposals | None
    settings: ThemeSettings
    text_fields: Collection[str] = ()  # the free-text fields (ml.themes.text)


def uses(model_features: Collection[str], name: str) -> bool:
    """Whether a model with these features uses the field `name`."""
    if name in model_features:
        return True
    return any(f.startswith((name + "=", name + ".")) for f in model_features)


def _candidates(e: ThemeEvidence) -> list[str]:
    names: list[str] = []
    for c in e.conditions:
        if c.field not in names:
            names.append(c.field)
    for col in e.table.columns:
        if col.name in names or col.name in e.text_fields:  # a text: by its condition only
            continue
        named = any(same_word(f, w) for f in field_words(col.name) for w in e.words)
        valued = not col.numeric and any(value_words(v) & set(e.words) for v in col.levels)
        if named or valued:
            names.append(col.name)
    return names


def _dependence(
    col: Column, conds: Sequence[Condition], proposals: Proposals, min_count: int
) -> float:
    """The largest difference in the share of an action between decided items split by
    the field (by its conditions, or else by each category or quartile against the rest)."""
    values = np.concatenate([col.inside, col.outside])
    known = proposals.codes >= 0
    if conds:
        splits = [c.holds(values) for c in conds]
    elif col.numeric:
        present = values[~np.isnan(values)]
        if len(present) == 0:
            return 0.0
        edges = np.unique(np.quantile(present, [0.25, 0.5, 0.75]))
        with np.errstate(invalid="ignore"):
            bins = np.where(np.isnan(values), -1, np.searchsorted(edges, values))
        splits = [bins == b for b in np.unique(bins[bins >= 0])]
    else:
        splits = [values == code for code in np.unique(values[values >= 0])]
    best = 0.0
    for holds in splits:
        inside = proposals.codes[holds & known]
        outside = proposals.codes[~holds & known]
        if len(inside) < min_count or len(outside) < min_count:
            continue
        k = len(proposals.actions)
        p_in = np.bincount(inside, minlength=k) / len(inside)
        p_out = np.bincount(outside, minlength=k) / len(outside)
        best = max(best, float(np.abs(p_in - p_out).max()))
    return best


def suggest_features(e: ThemeEvidence) -> list[SuggestedFeature]:
    """Every field the theme points at, best first (see the module docstring)."""
    ranked: list[tuple[float, bool, str, SuggestedFeature]] = []
    for name in _candidates(e):
        col = e.table.by_name.get(name)
        conds = [c for c in e.conditions if c.field == name]
        best = max(conds, key=lambda c: c.support - c.base, default=None)
        separation = max(0.0, best.support - best.base) if best is not None else 0.0
        levels = [col.levels[int(c.value)] for c in conds if c.op == "=" and col is not None]
        levels += [w for c in conds if c.op == "mentions" for w in c.words]  # "crypto ..."
        words = pointing(col, name, conds, e.reasons, e.members, levels)
        score = round((separation + words.share) / 2.0, 4)
        parts = [
            f"{best.text} holds for {best.support:.0%} of the theme and {best.base:.0%} elsewhere"
            if best is not None
            else "no payload condition"
        ]
        mentioned = [
            f"{w} {share:.0%}"
            for c in conds
            if c.op == "mentions"
            for w, share in zip(c.words, c.word_support, strict=True)
        ]
        if mentioned:
            parts.append(f"its items' {name} mentions {', '.join(mentioned)}")
        if words.words:
            shown = ", ".join(words.words[:_MAX_EVIDENCE_WORDS])
            parts.append(f"words: {shown} ({words.share:.0%} of its reasons)")
        if e.model_features is not None:
            used = uses(e.model_features, name)
        elif e.proposals is not None and col is not None:
            gap = _dependence(col, conds, e.proposals, e.settings.min_count)
            used = gap >= e.settings.proposal_dependence
            verb = "depend on it" if used else "ignore it"
            parts.append(f"the proposals {verb} (action shares differ by up to {gap:.0%})")
        else:
            used = False
        threshold = best is not None and best.op in ("<", ">")
        suggestion = SuggestedFeature(name, score, "; ".join(parts), used)
        ranked.append((-score, not threshold, name, suggestion))
    ranked.sort(key=lambda r: r[:3])
    return [r[3] for r in ranked]


def first_unused(ranked: Sequence[SuggestedFeature]) -> str | None:
    """The best-ranked field the model (or the proposals) does not use."""
    return next((s.field for s in ranked if not s.used_by_model), None)
