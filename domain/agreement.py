"""How far reviewers agree when several review the same item, and how reliable each one is,
standard library only.

The figures:

- percent agreement: the chance that two votes on the same item, picked at random, agree;
- Krippendorff's alpha (nominal): agreement corrected for the agreement expected by chance
  from how often each label is used (1 perfect, 0 no better than chance, below 0 worse);
- Cohen's kappa per pair of reviewers: their agreement corrected for the chance agreement
  of their own label frequencies;
- per reviewer: the share of their votes equal to the consensus label, and the accuracy
  Dawid-Skene estimates for them (see domain.dawid_skene), the model counting as one more
  annotator so that everyone is judged against the same estimated truth.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from domain.dawid_skene import DawidSkene, dawid_skene

__all__ = [
    "AgreementFigures",
    "DawidSkene",
    "PairAgreement",
    "ReviewerReliability",
    "Vote",
    "agreement_figures",
    "cohen_kappa",
    "consensus_weight",
    "dawid_skene",
    "krippendorff_alpha_nominal",
    "percent_agreement",
]


@dataclass(frozen=True)
class Vote:
    """One reviewer's vote on one item. `label` is the vote's outcome: its final action
    (e.g. "approve_loan"), or a sentinel such as "REJECTED" for a reject with no action."""

    item_id: str
    reviewer_id: str
    label: str


@dataclass(frozen=True)
class PairAgreement:
    """How two reviewers (first < second) agree on the items both reviewed: the share of
    those items where they gave the same label, and Cohen's kappa (None when undefined)."""

    first: str
    second: str
    items: int
    agreement: float
    cohen_kappa: float | None


@dataclass(frozen=True)
class ReviewerReliability:
    """One reviewer's record: items reviewed; the share of their votes on items with a
    consensus label that equal it (None without such items); and the Dawid-Skene estimate
    of P(their label == the true label) (None when no item has two votes)."""

    reviewer_id: str
    reviews: int
    agreement_with_consensus: float | None
    estimated_accuracy: float | None


@dataclass(frozen=True)
class AgreementFigures:
    """Agreement over the items with at least two votes (`items` of them): percent agreement
    and Krippendorff's alpha (None without such items), the pairs of reviewers sharing
    enough items (sorted by (first, second)) and every reviewer (sorted by id)."""

    items: int
    percent_agreement: float | None
    krippendorff_alpha: float | None
    pairs: list[PairAgreement]
    reviewers: list[ReviewerReliability]


def percent_agreement(items: Sequence[Sequence[str]]) -> float | None:
    """The mean, over items with at least two labels, of the share of their pairs of labels
    that agree (agreeing pairs / n(n-1)/2); None when no item has two labels."""
    shares = []
    for labels in items:
        n = len(labels)
        if n < 2:
            continue
        agreeing = sum(c * (c - 1) for c in Counter(labels).values()) // 2
        shares.append(agreeing / (n * (n - 1) / 2))
    return math.fsum(shares) / len(shares) if shares else None


def krippendorff_alpha_nominal(items: Sequence[Sequence[str]]) -> float | None:
    """Krippendorff's alpha for nominal labels, each inner sequence being one unit's values.

    alpha = 1 - observed disagreement / expected disagreement, from the coincidence matrix of
    the pairable values (units with fewer than two values are ignored). None when there are
    no pairable values or all of them are one label (no disagreement is expected).
    """
    matching = 0.0  # the diagonal of the coincidence matrix, summed
    label_totals: Counter[str] = Counter()
    for labels in items:
        m = len(labels)
        if m < 2:
            continue
        counts = Counter(labels)
        matching += sum(c * (c - 1) for c in counts.values()) / (m - 1)
        label_totals.update(counts)
    n = sum(label_totals.values())
    expected = n * n - sum(c * c for c in label_totals.values())
    if n == 0 or expected == 0:
        return None
    return 1.0 - (n - 1) * (n - matching) / expected


def cohen_kappa(pairs: Sequence[tuple[str, str]]) -> float | None:
    """Cohen's kappa for two raters, one (first rater's label, second's) per item:
    (observed - chance agreement) / (1 - chance agreement), chance from each rater's label
    frequencies. None without pairs or when chance agreement is 1 (both always one label)."""
    n = len(pairs)
    first = Counter(a for a, _ in pairs)
    second = Counter(b for _, b in pairs)
    agreeing = sum(1 for a, b in pairs if a == b)
    chance = sum(first[k] * second[k] for k in first)  # n^2 times the chance agreement
    if n == 0 or chance == n * n:
        return None
    return (n * agreeing - chance) / (n * n - chance)


def consensus_weight(ds: DawidSkene, item_id: str, label: str) -> float:
    """The estimated probability that `label` (an item's consensus or adjudicated label) is
    its true label: the sample weight of that item's training row."""
    return ds.probability(item_id, label)


def agreement_figures(
    votes: Sequence[Vote],
    *,
    consensus: Mapping[str, str] | None = None,
    proposals: Mapping[str, str] | None = None,
    min_shared_items: int = 10,
    model_annotator: str = "model",
) -> AgreementFigures:
    """Every agreement figure for a set of votes.

    One vote per reviewer per item counts: the last one given. `consensus` (item -> label)
    is what agreement_with_consensus compares with. `proposals` (item -> the model's
    proposed label) adds the model as one more Dawid-Skene annotator, `model_annotator`, on
    the items that have votes; it is not listed among the reviewers. A pair of reviewers is
    listed when they share at least `min_shared_items` items (and at least one). A reviewer
    named like the model annotator is refused (ValueError): their votes would merge with the
    model's.
    """
    labels = _labels_by_item(votes)
    if any(model_annotator in by_reviewer for by_reviewer in labels.values()):
        raise ValueError(f"a reviewer is named like the model annotator {model_annotator!r}")
    shared = [list(by_reviewer.values()) for by_reviewer in labels.values() if len(by_reviewer) > 1]
    accuracy = _estimated_accuracy(labels, proposals or {}, model_annotator) if shared else {}
    return AgreementFigures(
        items=len(shared),
        percent_agreement=percent_agreement(shared),
        krippendorff_alpha=krippendorff_alpha_nominal(shared),
        pairs=_pairs(labels, min_shared_items),
        reviewers=_reviewers(labels, consensus or {}, accuracy),
    )


def _labels_by_item(votes: Sequence[Vote]) -> dict[str, dict[str, str]]:
    labels: dict[str, dict[str, str]] = defaultdict(dict)
    for vote in votes:
        labels[vote.item_id][vote.reviewer_id] = vote.label
    return dict(labels)


def _estimated_accuracy(
    labels: Mapping[str, Mapping[str, str]], proposals: Mapping[str, str], model: str
) -> dict[str, float]:
    with_model = {
        item: {**by_reviewer, model: proposals[item]} if item in proposals else by_reviewer
        for item, by_reviewer in labels.items()
    }
    return dawid_skene(with_model).accuracy


def _pairs(labels: Mapping[str, Mapping[str, str]], min_shared_items: int) -> list[PairAgreement]:
    together: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for by_reviewer in labels.values():
        for first, second in itertools.combinations(sorted(by_reviewer), 2):
            together[first, second].append((by_reviewer[first], by_reviewer[second]))
    return [
        PairAgreement(
            first=first,
            second=second,
            items=len(pairs),
            agreement=sum(1 for a, b in pairs if a == b) / len(pairs),
            cohen_kappa=cohen_kappa(pairs),
        )
        for (first, second), pairs in sorted(together.items())
        if len(pairs) >= min_shared_items
    ]


def _reviewers(
    labels: Mapping[str, Mapping[str, str]],
    consensus: Mapping[str, str],
    accuracy: Mapping[str, float],
) -> list[ReviewerReliability]:
    reviews: Counter[str] = Counter()
    compared: Counter[str] = Counter()
    matched: Counter[str] = Counter()
    for item, by_reviewer in labels.items():
        reviews.update(by_reviewer.keys())
        if item in consensus:
            for reviewer, label in by_reviewer.items():
                compared[reviewer] += 1
                matched[reviewer] += label == consensus[item]
    return [
        ReviewerReliability(
            reviewer_id=reviewer,
            reviews=reviews[reviewer],
            agreement_with_consensus=matched[reviewer] / compared[reviewer]
            if compared[reviewer]
            else None,
            estimated_accuracy=accuracy.get(reviewer),
        )
        for reviewer in sorted(reviews)
    ]
