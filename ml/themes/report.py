"""The themes reported (step 6): which groups are concerns, and each one as a Theme.

Dropped (neither returned nor grouped as "other"): themes of one override, themes with
fewer than `min_count` overrides and less than `tiny_share` of them, and themes with no
condition whose commonest term is in fewer than `min_shared_term` of their reasons
(one-offs that k-means lumped together). Shares always refer to all overrides analysed,
so they may add up to less than 1.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from domain.learning import SuggestedFeature
from ml.themes.corpus import Corpus
from ml.themes.groups import Group
from ml.themes.labelling import examples, label, surfaces, top_terms
from ml.themes.payloads import PayloadTable
from ml.themes.settings import ThemeSettings
from ml.themes.suggestions import Proposals, ThemeEvidence, first_unused, suggest_features


@dataclass
class Theme:
    """One concern behind a window's overrides."""

    label: str  # a short phrase, e.g. "young healthcare companies"
    keywords: list[str]
    count: int
    share: float  # of the overrides analysed
    proposed_action: str | None  # the proposal the theme overrides most
    share_of_action_overrides: float | None  # its overrides of it / all overrides of it
    conditions: list[str]  # e.g. ["industry = healthcare", "company_age_years < 2"]
    suggested_feature: str | None  # the first of suggested_features the model does not use
    examples: list[str]  # a few representative reasons
    members: list[int]  # indices into the input overrides
    suggested_features: list[SuggestedFeature]  # every field it points at, best first


def worth_reporting(group: Group, corpus: Corpus, n: int, settings: ThemeSettings) -> bool:
    """Not a tiny leftover, and a concern: payload conditions of its own, or one
    term that most of its reasons share (else it is one-offs that k-means lumped)."""
    m = len(group.members)
    if m < 2 or (m < settings.min_count and m / n < settings.tiny_share):
        return False
    if group.conditions or not corpus.vocabulary:
        return bool(group.conditions)
    rows, counts = np.unique(corpus.row_of[group.members], return_counts=True)
    df = np.asarray(corpus.binary[rows].T @ counts.astype(float)).ravel()
    return float(df.max()) >= settings.min_shared_term * m


@dataclass(frozen=True)
class Window:
    """What every theme of one mining run is described against."""

    reasons: Sequence[str]  # per override
    proposed: Sequence[str]  # per override: the proposed action ("" if none)
    action_totals: Counter[str]  # overrides per proposed action
    corpus: Corpus
    table: PayloadTable
    model_features: Collection[str] | None
    proposals: Proposals | None  # of the overrides and the contrast, when known
    settings: ThemeSettings
    text_fields: Collection[str] = ()  # the free-text fields of the payloads


def report_theme(group: Group, window: Window) -> Theme:
    """The group as a Theme: words, action shares, conditions, suggestion, examples."""
    s = window.settings
    members = group.members
    n = len(window.reasons)
    top = top_terms(window.corpus, members, n, s.max_field_terms, s)
    words_of = surfaces(window.corpus, window.reasons, members, s)
    keywords = [words_of.term(t) for t in top[: s.max_keywords]]
    words = {w for t in top for w in t.split(" ")}
    actions = Counter(window.proposed[int(i)] for i in members if window.proposed[int(i)])
    proposed: str | None = None
    share_of_action: float | None = None
    if actions:
        proposed, k = min(actions.items(), key=lambda kv: (-kv[1], kv[0]))
        share_of_action = k / window.action_totals[proposed]
    ranked = suggest_features(
        ThemeEvidence(
            conditions=group.conditions,
            members=members,
            words=words,
            reasons=window.reasons,
            table=window.table,
            model_features=window.model_features,
            proposals=window.proposals,
            settings=s,
            text_fields=window.text_fields,
        )
    )
    return Theme(
        label=label(group.conditions, window.table, window.corpus, window.reasons, members, s),
        keywords=keywords,
        count=len(members),
        share=len(members) / n,
        proposed_action=proposed,
        share_of_action_overrides=share_of_action,
        conditions=[c.text for c in group.conditions],
        suggested_feature=first_unused(ranked),
        examples=examples(window.corpus, window.reasons, group, s),
        members=[int(i) for i in members],
        suggested_features=ranked,
    )
