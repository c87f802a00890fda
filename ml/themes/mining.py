"""`mine_themes`: the steps of theme mining run in order (see ml.themes)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from ml.text import tokens
from ml.themes.clustering import cluster_rows, cut_into_pieces
from ml.themes.conditions import Contrast
from ml.themes.corpus import build_corpus
from ml.themes.groups import Grouper
from ml.themes.merging import merge_all
from ml.themes.payloads import PayloadTable
from ml.themes.reassignment import reassign
from ml.themes.report import Theme, Window, report_theme, worth_reporting
from ml.themes.settings import DEFAULT_SETTINGS, ThemeSettings
from ml.themes.suggestions import Proposals


@dataclass
class OverrideSample:
    """One override in the window: the reviewer's reason, the proposal and the call."""

    reason: str
    proposed_action: str
    chosen_action: str
    payload: dict[str, Any]


def mine_themes(
    overrides: Sequence[OverrideSample],
    others: Sequence[dict[str, Any]],
    model_features: Collection[str] | None,
    *,
    seed: int = 7,
    max_themes: int = 8,
    settings: ThemeSettings = DEFAULT_SETTINGS,
    other_proposals: Sequence[str] | None = None,
) -> list[Theme]:
    """The concerns behind a window's overrides, largest share first (see ml.themes).

    `others`: payloads of the workflow's other decided items (the contrast for
    conditions); `model_features`: the flattened payload fields the active model uses
    (None: no active model); `other_proposals`: the proposed action of each of `others`,
    from which, with no active model, the fields the proposals use are judged. At most
    `max_themes`, sorted by count (ties: label). Deterministic for a given seed."""
    if other_proposals is not None and len(other_proposals) != len(others):
        raise ValueError(
            f"other_proposals has {len(other_proposals)} proposals for {len(others)} others"
        )
    if len(overrides) == 0 or max_themes <= 0:
        return []
    proposals = None
    if other_proposals is not None:
        proposals = Proposals.of([o.proposed_action for o in overrides], other_proposals)
    # One BLAS / OpenMP thread by default: see ThemeSettings.threads.
    with threadpool_limits(limits=settings.threads):
        return _mine(overrides, others, model_features, proposals, seed, max_themes, settings)


def _mine(
    overrides: Sequence[OverrideSample],
    others: Sequence[dict[str, Any]],
    model_features: Collection[str] | None,
    proposals: Proposals | None,
    seed: int,
    max_themes: int,
    settings: ThemeSettings,
) -> list[Theme]:
    n = len(overrides)
    reasons = [o.reason or "" for o in overrides]
    table = PayloadTable([o.payload for o in overrides], others, settings)
    # the actions' own names ("Decline: too young") say nothing about the concern
    actions = {a for o in overrides for a in (o.proposed_action, o.chosen_action) if a}
    action_words = {t for a in actions for t in tokens(a)}
    corpus = build_corpus(reasons, settings, action_words)

    if n <= 2:  # one theme holding them all (no clustering)
        clusters = [np.arange(n)]
    else:
        row_labels = cluster_rows(corpus, seed, settings)
        labels = row_labels[corpus.row_of]
        clusters = [np.flatnonzero(labels == k) for k in np.unique(labels[labels >= 0])]
    # The Bonferroni factor across themes: how many clusters are tried.
    contrast = Contrast(table, n, len(others), max(1, len(clusters)), settings)
    grouper = Grouper(contrast, corpus, settings)
    if n <= 2:
        groups = [grouper.group(clusters)]
    else:
        pieces = [cut_into_pieces(c, corpus, seed, settings) for c in clusters if len(c)]
        groups = merge_all(grouper, [grouper.group(p) for p in pieces])
        groups = merge_all(grouper, reassign(grouper, groups))
        groups = [g for g in groups if worth_reporting(g, corpus, n, settings)]
    groups.sort(key=lambda g: (-len(g.members), int(g.members[0])))
    window = Window(
        reasons=reasons,
        proposed=[o.proposed_action for o in overrides],
        action_totals=Counter(o.proposed_action for o in overrides if o.proposed_action),
        corpus=corpus,
        table=table,
        model_features=model_features,
        proposals=proposals,
        settings=settings,
        text_fields=[t.name for t in contrast.texts],
    )
    themes = [report_theme(g, window) for g in groups[:max_themes]]
    themes.sort(key=lambda t: (-t.count, t.label))
    return themes
