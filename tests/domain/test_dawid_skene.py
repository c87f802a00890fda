"""domain.dawid_skene on simulated reviewers with planted accuracies: the accuracies are
recovered, tiny data stays finite and inside (0, 1), and a reviewer who is always wrong
is found out."""

from __future__ import annotations

import math
import random

import pytest

from domain.dawid_skene import dawid_skene

PLANTED = {"r1": 0.95, "r2": 0.9, "r3": 0.8, "r4": 0.7, "r5": 0.6}


def _simulate(
    seed: int, items: int, accuracies: dict[str, float], class_prior: dict[str, float]
) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """Every reviewer labels every item; a wrong label is any other class, equally likely."""
    rng = random.Random(seed)
    classes = list(class_prior)
    labels: dict[str, dict[str, str]] = {}
    truth: dict[str, str] = {}
    for i in range(items):
        item = f"i{i}"
        truth[item] = rng.choices(classes, weights=list(class_prior.values()))[0]
        labels[item] = {
            reviewer: truth[item]
            if rng.random() < accuracy
            else rng.choice([k for k in classes if k != truth[item]])
            for reviewer, accuracy in accuracies.items()
        }
    return labels, truth


@pytest.mark.parametrize(
    "class_prior",
    [
        {"approve": 0.7, "reject": 0.3},
        {"approve": 0.5, "reject": 0.3, "escalate": 0.2},
    ],
)
@pytest.mark.parametrize("seed", range(4))
def test_planted_accuracies_are_recovered_within_five_points(
    seed: int, class_prior: dict[str, float]
):
    labels, truth = _simulate(seed, 500, PLANTED, class_prior)
    ds = dawid_skene(labels)
    for reviewer, planted in PLANTED.items():
        assert ds.accuracy[reviewer] == pytest.approx(planted, abs=0.05), reviewer
        # the planted rate is itself missed by sampling (sd up to 0.022 over 500 items);
        # what the labels can show is the realised rate, and the estimate is held closer to it
        realised = sum(labels[i][reviewer] == truth[i] for i in labels) / len(labels)
        assert ds.accuracy[reviewer] == pytest.approx(realised, abs=0.03), reviewer
    for k, share in class_prior.items():
        assert ds.class_prior[k] == pytest.approx(share, abs=0.06), k


@pytest.mark.parametrize("seed", range(3))
def test_the_most_likely_label_beats_the_majority_vote_against_the_truth(seed: int):
    labels, truth = _simulate(100 + seed, 500, PLANTED, {"a": 0.6, "b": 0.25, "c": 0.15})
    ds = dawid_skene(labels)
    estimated = sum(ds.most_likely(item)[0] == truth[item] for item in labels)
    majority = sum(
        max(sorted(set(votes.values())), key=list(votes.values()).count) == truth[item]
        for item, votes in labels.items()
    )
    assert estimated >= majority
    assert estimated / len(labels) > 0.95


def test_posteriors_are_probability_distributions_over_the_classes():
    labels, _ = _simulate(5, 60, PLANTED, {"a": 0.5, "b": 0.5})
    ds = dawid_skene(labels)
    assert ds.classes == ["a", "b"]
    for item in labels:
        assert math.fsum(ds.posteriors[item].values()) == pytest.approx(1.0)
        label, p = ds.most_likely(item)
        assert p == ds.probability(item, label) == max(ds.posteriors[item].values())
    assert ds.probability("i0", "never given") == 0.0
    assert math.fsum(ds.class_prior.values()) == pytest.approx(1.0)
    assert 1 <= ds.iterations <= 100


def test_tiny_data_gives_finite_estimates_strictly_between_zero_and_one():
    ds = dawid_skene({"i1": {"ann": "yes", "bob": "no"}, "i2": {"ann": "yes", "bob": "yes"}})
    values = [
        *ds.accuracy.values(),
        *ds.class_prior.values(),
        *(p for posterior in ds.posteriors.values() for p in posterior.values()),
    ]
    assert all(math.isfinite(v) and 0.0 < v < 1.0 for v in values)
    assert set(ds.accuracy) == {"ann", "bob"}


def test_an_annotator_who_is_always_wrong_is_estimated_low():
    accuracies = {"r1": 0.9, "r2": 0.85, "r3": 0.8, "r4": 0.8}
    labels, truth = _simulate(11, 300, accuracies, {"a": 0.6, "b": 0.4})
    for item, votes in labels.items():
        votes["contrarian"] = "b" if truth[item] == "a" else "a"
    ds = dawid_skene(labels)
    assert ds.accuracy["contrarian"] < 0.1
    assert min(ds.accuracy[r] for r in accuracies) > 0.7


def test_an_item_without_labels_gets_the_class_prior():
    ds = dawid_skene({"i1": {"ann": "a", "bob": "a"}, "i2": {"ann": "b", "bob": "b"}, "i3": {}})
    assert ds.posteriors["i3"] == pytest.approx(ds.class_prior)


def test_a_single_class_is_certain():
    ds = dawid_skene({"i1": {"ann": "a", "bob": "a"}, "i2": {"ann": "a"}})
    assert ds.most_likely("i2") == ("a", 1.0)
    assert ds.accuracy == {"ann": 1.0, "bob": 1.0}


@pytest.mark.parametrize("bad", [{"prior_strength": 0.0}, {"max_iterations": 0}])
def test_nonsensical_settings_are_refused(bad: dict[str, float]):
    with pytest.raises(ValueError):
        dawid_skene({"i1": {"ann": "a"}}, **bad)  # type: ignore[arg-type]
