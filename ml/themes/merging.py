"""Clusters merged into concerns (step 3), greedily, best pair first.

- Both have payload conditions and their conditions hold across each other's members
  (>= `merge_condition_agreement` of them, counting both ways): the same concern phrased
  differently; or the smaller one's items satisfy the larger one's conditions and its
  own are no much rarer description, nor a text condition the larger one's items fail.
- One has conditions and the other (a phrasing with too few items for conditions of its
  own) has a clear majority satisfying all of them, significantly more often than the
  contrast does (Fisher, p < `alpha`).
- Neither has conditions and their tf-idf centroids are close (a phrasing split in two),
  or together they have conditions that both satisfy (phrasings too small for conditions
  of their own, as in a small window).
- Otherwise, by the items' free text (ml.themes.text), when no number or category sets
  the two apart: one has a text condition, what their items' texts mention beyond the
  usual is alike (cosine >= `text_profile_similarity` over the words that set either
  apart), together they have a text condition that holds for `min_support` of each, and
  each one's conditions hold on the other's items at least `text_merge_fit` as often as
  on its own. So "crypto doubling scam" and "ponzi pitch", whose reasons
  share no word and whose posts differ in no number, are one theme.

A merged group's conditions are computed again.
"""

from __future__ import annotations

import numpy as np

from ml.themes.groups import Group, Grouper
from ml.themes.text import profile_similarity


def merge_score(grouper: Grouper, a: Group, b: Group) -> float | None:
    """How surely a and b are one concern (higher merges first), or None: not one."""
    score = _by_conditions(grouper, a, b)
    return score if score is not None else by_text(grouper, a, b)


def by_text(grouper: Grouper, a: Group, b: Group) -> float | None:
    """The similarity of what a's and b's items' texts mention beyond the usual, if one
    of them has a condition on that text, both have words that set them apart, together
    they have a condition on it that holds for `min_support` of each, and neither's
    conditions set the other's items apart; else None."""
    s = grouper.settings
    conditioned = {c.field for c in (*a.conditions, *b.conditions) if c.op == "mentions"}
    alike: list[tuple[float, str]] = []
    for field in grouper.contrast.texts:
        wa, wb = a.words.get(field.name), b.words.get(field.name)
        if field.name not in conditioned or wa is None or wb is None or not (len(wa) and len(wb)):
            continue
        similarity = profile_similarity(field, a.members, b.members, np.union1d(wa, wb))
        if similarity >= s.text_profile_similarity:
            alike.append((similarity, field.name))
    if not alike or not (grouper.compatible(a, b) and grouper.compatible(b, a)):
        return None
    # together, a condition on the text that holds for both (a group that mixes
    # concerns has none, so it does not grow by taking in one concern after another)
    joint = grouper.contrast.text_conditions(np.concatenate([a.members, b.members]))
    for similarity, name in sorted(alike, reverse=True):
        for c in joint:
            if c.field == name and all(
                h.mean() >= s.min_support
                for h in (
                    *grouper.contrast.holding([c], a.members),
                    *grouper.contrast.holding([c], b.members),
                )
            ):
                return similarity
    return None


def _by_conditions(grouper: Grouper, a: Group, b: Group) -> float | None:
    s = grouper.settings
    if a.conditions and b.conditions:
        agreement = grouper.agreement(a, b)
        if agreement >= s.merge_condition_agreement:
            return agreement
        # The smaller one's items satisfy all of the larger one's conditions,
        # and its own are no much rarer description: a phrasing of the same
        # concern whose few items happen to look sharper ("< 1" vs "< 2").
        big, small = (a, b) if len(a.members) >= len(b.members) else (b, a)
        if small.base < s.specificity * big.base:
            return None
        if not grouper.compatible(small, big, text_only=True):
            return None  # the small one's text mentions what the big one's does not
        return grouper.absorbs(big, small.members)
    if a.conditions or b.conditions:
        big, small = (a, b) if a.conditions else (b, a)
        return grouper.absorbs(big, small.members)
    text = float(a.centroid @ b.centroid)
    if text >= s.text_merge_similarity:
        return text
    # Two phrasings too small for conditions of their own (a small window):
    # together they may have some, and then both must satisfy them.
    union = np.concatenate([a.members, b.members])
    joint = Group([union], union, grouper.contrast.conditions(union), a.centroid)
    if not joint.conditions:
        return None
    fit = min(grouper.fit(joint, a.members), grouper.fit(joint, b.members))
    return fit if fit >= s.min_support else None


def merge_all(grouper: Grouper, groups: list[Group]) -> list[Group]:
    """Merge the best-scoring pair until no pair is one concern."""
    cache: dict[tuple[int, int], float | None] = {}
    ids = list(range(len(groups)))
    by_id = dict(enumerate(groups))
    next_id = len(groups)
    while len(ids) > 1:
        best: tuple[float, int, int] | None = None  # (score, id, id)
        for x in range(len(ids)):
            for y in range(x + 1, len(ids)):
                key = (ids[x], ids[y])
                if key not in cache:
                    cache[key] = merge_score(grouper, by_id[ids[x]], by_id[ids[y]])
                score = cache[key]
                if score is not None and (best is None or score > best[0]):
                    best = (score, ids[x], ids[y])
        if best is None:
            break
        _, p, q = best
        merged = grouper.group(by_id[p].clusters + by_id[q].clusters)
        del by_id[p], by_id[q]
        ids = [i for i in ids if i not in (p, q)] + [next_id]
        by_id[next_id] = merged
        next_id += 1
    return [by_id[i] for i in ids]
