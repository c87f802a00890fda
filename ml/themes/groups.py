"""Groups of clusters (candidate themes) and how well a set of items fits a group's
conditions: what merging (step 3) and reassignment (step 4) decide by."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ml.themes.conditions import Condition, Contrast, fisher_greater
from ml.themes.corpus import Corpus, text_centroid
from ml.themes.settings import ThemeSettings


@dataclass
class Group:
    """A candidate theme: its constituent clusters (pieces), largest first."""

    clusters: list[np.ndarray]  # member override indices of each constituent cluster
    members: np.ndarray
    conditions: list[Condition]
    centroid: np.ndarray  # text centroid (dense, normalised)
    base: float = 1.0  # share of the contrast satisfying all its conditions (1: none)
    # per free-text field: the words its items mention far more than the contrast's
    words: dict[str, np.ndarray] = field(default_factory=dict)


class Grouper:
    """Makes groups (their conditions against the contrast) and measures fits."""

    def __init__(self, contrast: Contrast, corpus: Corpus, settings: ThemeSettings):
        self.contrast = contrast
        self.corpus = corpus
        self.settings = settings

    def group(self, clusters: list[np.ndarray]) -> Group:
        """The group of these clusters, with its conditions."""
        members = np.sort(np.concatenate(clusters))
        g = Group(
            clusters=sorted(clusters, key=lambda c: (-len(c), int(c[0]))),
            members=members,
            conditions=self.contrast.conditions(members),
            centroid=text_centroid(self.corpus, members),
            words=self.contrast.distinguishing(members),
        )
        if g.conditions:
            k, n = self.contrast.conjunction_rate_outside(g.conditions, members)
            g.base = k / n if n else 1.0
        return g

    def agreement(self, a: Group, b: Group) -> float:
        """Share of a's conditions holding on b's members and of b's on a's."""
        held = 0
        for x, y in ((a, b), (b, a)):
            for h in self.contrast.holding(x.conditions, y.members):
                held += int(h.mean() >= self.settings.min_support)
        return held / (len(a.conditions) + len(b.conditions))

    def compatible(self, a: Group, b: Group, *, text_only: bool = False) -> bool:
        """Whether each of a's conditions (or only its text conditions) holds on b's
        members at least `text_merge_fit` as often as on a's own: nothing a's items have
        sets b's apart."""
        conds = [c for c in a.conditions if c.op == "mentions" or not text_only]
        holds = self.contrast.holding(conds, b.members)
        ratio = self.settings.text_merge_fit
        return all(h.mean() >= ratio * c.support for c, h in zip(conds, holds, strict=True))

    def fits(self, a: Group, members: np.ndarray) -> bool:
        """Whether these members belong with a's conditions: a clear majority satisfies
        all of them, or, when a has conditions on its text, all of those (the text is
        what the concern is about; "links > 0" beside it holds for fewer, and the two
        together for fewer still)."""
        s = self.settings
        if self.fit(a, members) >= s.min_support:
            return True
        text = [c for c in a.conditions if c.op == "mentions"]
        holds = self.contrast.holding(text, members)
        return bool(text) and float(np.logical_and.reduce(holds).mean()) >= s.min_support

    def fit(self, a: Group, members: np.ndarray) -> float:
        """The share of `members` satisfying all of a's conditions."""
        holds = self.contrast.holding(a.conditions, members)
        if not holds:
            return 0.0
        return float(np.logical_and.reduce(holds).mean())

    def absorbs(self, a: Group, members: np.ndarray, alpha: float | None = None) -> float | None:
        """The share of `members` (a cluster without conditions of its own, or a piece
        of one) satisfying a's conditions if they are a phrasing of a's concern: a clear
        majority satisfies all of them, far more often than the contrast items do
        (Fisher, p < alpha; default `settings.alpha`). Else None."""
        alpha = self.settings.alpha if alpha is None else alpha
        rate = self.fit(a, members)
        k = round(rate * len(members))
        if rate < self.settings.min_support or k < 2:
            return None
        outside_k, outside_n = self.contrast.conjunction_rate_outside(a.conditions, a.members)
        if outside_n == 0 or fisher_greater(k, len(members), outside_k, outside_n) >= alpha:
            return None
        return rate
