"""domain.agreement: percent agreement, Krippendorff's alpha and Cohen's kappa against
hand-checked examples and the reference implementations, and the figures per reviewer."""

from __future__ import annotations

import math

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from domain.agreement import (
    Vote,
    agreement_figures,
    cohen_kappa,
    consensus_weight,
    dawid_skene,
    krippendorff_alpha_nominal,
    percent_agreement,
)

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", the example with
# missing data: 4 observers (rows) x 12 units (columns), None where an observer is silent.
PAPER_EXAMPLE = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]


def _units(rows: list[list[int | None]]) -> list[list[str]]:
    """Observer rows -> one list of present values per unit, as labels."""
    return [[str(v) for v in column if v is not None] for column in zip(*rows, strict=True)]


def _random_reliability_data(
    rng: np.random.Generator, observers: int, units: int, categories: int, missing: float
) -> np.ndarray:
    data = rng.integers(0, categories, size=(observers, units)).astype(float)
    data[rng.random(size=data.shape) < missing] = np.nan
    return data


def _units_of(data: np.ndarray) -> list[list[str]]:
    return [[str(int(v)) for v in column if not np.isnan(v)] for column in data.T]


def test_percent_agreement_averages_the_share_of_agreeing_pairs_over_items_with_two_labels():
    items = [["a", "a", "b"], ["a", "a"], ["x"], ["a", "b", "c", "a"]]
    # 1 of 3 pairs, 1 of 1, ignored, 1 of 6
    assert percent_agreement(items) == pytest.approx((1 / 3 + 1 + 1 / 6) / 3)


def test_percent_agreement_is_none_without_an_item_having_two_labels():
    assert percent_agreement([["a"], [], ["b"]]) is None
    assert percent_agreement([]) is None


def test_alpha_reproduces_the_worked_example_of_krippendorffs_paper():
    assert krippendorff_alpha_nominal(_units(PAPER_EXAMPLE)) == pytest.approx(0.743, abs=5e-4)


def test_alpha_is_zero_when_disagreement_is_what_chance_predicts():
    # values a,a | a,b: o_aa = 2, o_ab = o_ba = 1; n_a = 3, n_b = 1, n = 4
    # alpha = 1 - (n - 1) * (o_ab + o_ba) / (n^2 - n_a^2 - n_b^2) = 1 - 3 * 2 / 6 = 0
    assert krippendorff_alpha_nominal([["a", "a"], ["a", "b"]]) == pytest.approx(0.0, abs=1e-12)


def test_alpha_is_one_for_perfect_agreement_on_two_categories():
    assert krippendorff_alpha_nominal([["a", "a"], ["b", "b", "b"], ["c"]]) == 1.0


def test_alpha_is_none_without_pairable_values_or_with_a_single_category():
    assert krippendorff_alpha_nominal([["a"], ["b"]]) is None
    assert krippendorff_alpha_nominal([["a", "a"], ["a", "a", "a"], ["b"]]) is None


@pytest.mark.parametrize("seed", range(40))
def test_alpha_matches_the_krippendorff_package_on_random_data_with_missing_values(seed: int):
    rng = np.random.default_rng(seed)
    data = _random_reliability_data(
        rng,
        observers=int(rng.integers(2, 7)),
        units=int(rng.integers(5, 60)),
        categories=int(rng.integers(2, 6)),
        missing=float(rng.uniform(0.0, 0.6)),
    )
    ours = krippendorff_alpha_nominal(_units_of(data))
    if len(np.unique(data[~np.isnan(data)])) < 2:
        assert ours is None  # the package refuses a one-value domain
        return
    theirs = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    if math.isnan(theirs):
        assert ours is None
    else:
        assert ours == pytest.approx(float(theirs), abs=1e-9)


def test_alpha_matches_the_krippendorff_package_on_the_papers_example():
    data = np.array([[np.nan if v is None else v for v in row] for row in PAPER_EXAMPLE])
    theirs = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    assert krippendorff_alpha_nominal(_units(PAPER_EXAMPLE)) == pytest.approx(theirs, abs=1e-9)


@pytest.mark.parametrize("categories", [2, 3, 5])
@pytest.mark.parametrize("seed", range(8))
def test_cohen_kappa_matches_scikit_learn_on_random_pairs(seed: int, categories: int):
    rng = np.random.default_rng(1000 + seed)
    n = int(rng.integers(5, 200))
    first = rng.integers(0, categories, size=n)
    # the second rater copies the first with some probability, so kappa spreads over (-1, 1)
    copies = rng.random(size=n) < rng.uniform(0.0, 0.9)
    second = np.where(copies, first, rng.integers(0, categories, size=n))
    pairs = [(f"c{a}", f"c{b}") for a, b in zip(first, second, strict=True)]
    expected = cohen_kappa_score(first, second)
    assert cohen_kappa(pairs) == pytest.approx(float(expected), abs=1e-9)


def test_cohen_kappa_is_none_when_chance_agreement_is_one_or_there_are_no_pairs():
    assert cohen_kappa([("a", "a")] * 5) is None
    assert cohen_kappa([]) is None


def test_cohen_kappa_is_minus_one_for_raters_who_always_swap_two_labels():
    assert cohen_kappa([("a", "b"), ("b", "a")] * 3) == pytest.approx(-1.0)


def _votes(table: dict[str, dict[str, str]]) -> list[Vote]:
    return [
        Vote(item, reviewer, label)
        for item, by_reviewer in table.items()
        for reviewer, label in by_reviewer.items()
    ]


def test_one_review_per_item_gives_no_items_no_figures_no_pairs_and_no_estimates():
    votes = _votes({"i1": {"ann": "yes"}, "i2": {"bob": "no"}, "i3": {"ann": "no"}})
    figures = agreement_figures(votes, consensus={"i1": "yes"}, min_shared_items=0)
    assert figures.items == 0
    assert figures.percent_agreement is None
    assert figures.krippendorff_alpha is None
    assert figures.pairs == []
    assert [(r.reviewer_id, r.reviews) for r in figures.reviewers] == [("ann", 2), ("bob", 1)]
    assert all(r.estimated_accuracy is None for r in figures.reviewers)


def test_figures_count_only_the_last_vote_of_a_reviewer_on_an_item():
    votes = [Vote("i1", "ann", "yes"), Vote("i1", "bob", "no"), Vote("i1", "ann", "no")]
    figures = agreement_figures(votes, min_shared_items=1)
    assert figures.items == 1
    assert figures.percent_agreement == 1.0
    assert figures.pairs[0].agreement == 1.0
    assert figures.reviewers[0].reviews == 1


def test_pairs_are_listed_only_with_enough_shared_items_and_sorted():
    rng = np.random.default_rng(7)
    table: dict[str, dict[str, str]] = {}
    for i in range(30):
        reviewers = ["cat", "ann", "bob"] if i < 12 else ["ann", "bob"]
        table[f"i{i}"] = {r: str(rng.integers(0, 3)) for r in reviewers}
    figures = agreement_figures(_votes(table), min_shared_items=12)
    assert [(p.first, p.second, p.items) for p in figures.pairs] == [
        ("ann", "bob", 30),
        ("ann", "cat", 12),
        ("bob", "cat", 12),
    ]
    figures = agreement_figures(_votes(table), min_shared_items=13)
    assert [(p.first, p.second) for p in figures.pairs] == [("ann", "bob")]
    shared = [(table[i]["ann"], table[i]["bob"]) for i in table]
    (pair,) = figures.pairs
    assert pair.agreement == pytest.approx(sum(a == b for a, b in shared) / 30)
    assert pair.cohen_kappa == pytest.approx(cohen_kappa(shared))


def test_figures_over_items_with_two_votes_match_the_functions_on_those_items():
    table = {
        "i1": {"ann": "a", "bob": "a", "cat": "b"},
        "i2": {"ann": "b", "bob": "b"},
        "i3": {"cat": "a"},
        "i4": {"ann": "a", "cat": "b"},
    }
    figures = agreement_figures(_votes(table))
    shared = [list(table[i].values()) for i in ("i1", "i2", "i4")]
    assert figures.items == 3
    assert figures.percent_agreement == pytest.approx(percent_agreement(shared))
    assert figures.krippendorff_alpha == pytest.approx(krippendorff_alpha_nominal(shared))


def test_the_model_annotator_informs_the_estimates_but_is_not_a_reviewer():
    table = {f"i{i}": {"ann": "a" if i % 2 else "b", "bob": "a"} for i in range(20)}
    proposals = {item: by_reviewer["ann"] for item, by_reviewer in table.items()}
    without = agreement_figures(_votes(table))
    with_model = agreement_figures(_votes(table), proposals=proposals)
    assert [r.reviewer_id for r in with_model.reviewers] == ["ann", "bob"]
    assert all(p.first != "model" and p.second != "model" for p in with_model.pairs)
    accuracy = {r.reviewer_id: r.estimated_accuracy for r in with_model.reviewers}
    before = {r.reviewer_id: r.estimated_accuracy for r in without.reviewers}
    # the model sides with ann on every item, so ann is believed over bob
    assert accuracy["ann"] is not None and accuracy["bob"] is not None
    assert accuracy["ann"] > accuracy["bob"]
    assert accuracy != before


def test_a_reviewer_named_like_the_model_annotator_is_refused():
    votes = [Vote("i1", "model", "a"), Vote("i1", "ann", "a")]
    with pytest.raises(ValueError, match="model"):
        agreement_figures(votes, proposals={"i1": "a"})


def test_agreement_with_consensus_counts_only_items_with_a_consensus_label():
    table = {
        "i1": {"ann": "a", "bob": "a"},
        "i2": {"ann": "a", "bob": "b"},
        "i3": {"ann": "b", "bob": "b"},
        "i4": {"ann": "b", "bob": "a"},  # no consensus: disputed
        "i5": {"cat": "a"},
    }
    consensus = {"i1": "a", "i2": "b", "i3": "b"}
    figures = agreement_figures(_votes(table), consensus=consensus)
    by_id = {r.reviewer_id: r for r in figures.reviewers}
    assert by_id["ann"].agreement_with_consensus == pytest.approx(2 / 3)
    assert by_id["bob"].agreement_with_consensus == 1.0
    assert by_id["cat"].agreement_with_consensus is None
    assert by_id["ann"].reviews == 4 and by_id["cat"].reviews == 1


def test_consensus_weight_is_high_when_reliable_reviewers_agree_and_lower_on_a_split():
    rng = np.random.default_rng(3)
    labels: dict[str, dict[str, str]] = {}
    for i in range(200):  # a history that shows the three reviewers are reliable
        truth = str(rng.integers(0, 2))
        labels[f"h{i}"] = {
            r: truth if rng.random() < 0.9 else str(1 - int(truth)) for r in ("ann", "bob", "cat")
        }
    labels["unanimous"] = {"ann": "1", "bob": "1", "cat": "1"}
    labels["split"] = {"ann": "1", "bob": "1", "cat": "0"}
    ds = dawid_skene(labels)
    unanimous = consensus_weight(ds, "unanimous", "1")
    split = consensus_weight(ds, "split", "1")
    assert unanimous > 0.99
    assert 0.5 < split < unanimous - 0.05
    assert consensus_weight(ds, "split", "0") == pytest.approx(1 - split)
