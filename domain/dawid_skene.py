"""Dawid-Skene: each item's true label and each annotator's reliability, estimated together
from labels alone (no ground truth), standard library only.

The model: an item's true class k is drawn from a class prior; an annotator who labels it
says l with probability confusion[annotator][k][l], independently of the other annotators.
EM alternates between the posterior over each item's true class (E-step) and the prior and
confusion matrices that those posteriors imply (M-step).

Small counts are kept stable by Dirichlet pseudo-counts added to the expected counts of the
M-step (the posterior-mean estimate under that prior):

- each confusion-matrix row gets `prior_strength` on its diagonal and `prior_strength / 2`
  shared equally by its off-diagonal cells. Before any evidence an annotator is thus taken
  to be right two times in three whatever the number of classes (better than chance, so
  that the labelling of the classes cannot flip), and that belief weighs as much as
  1.5 * `prior_strength` votes: a few votes move it, hundreds drown it;
- the class prior gets one pseudo-item per class (Laplace), so no class has probability 0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

Confusion = dict[str, dict[str, float]]  # true class -> given label -> probability


@dataclass(frozen=True)
class DawidSkene:
    """A fitted Dawid-Skene model.

    - classes: every label any annotator gave, sorted;
    - class_prior: the estimated share of items whose true label is each class;
    - posteriors: item -> class -> P(the item's true label is that class | all labels);
    - confusion: annotator -> true class -> given label -> probability;
    - accuracy: annotator -> P(their label == the true label) for an item drawn from the
      class prior, i.e. sum over classes k of class_prior[k] * confusion[k][k];
    - iterations: EM rounds run (at most max_iterations; fewer when it converged).
    """

    classes: list[str]
    class_prior: dict[str, float]
    posteriors: dict[str, dict[str, float]]
    accuracy: dict[str, float]
    iterations: int
    confusion: dict[str, Confusion]

    def most_likely(self, item_id: str) -> tuple[str, float]:
        """The item's most probable true label and its probability (ties: the first class
        in sorted order). Raises KeyError for an item the model was not fitted on."""
        posterior = self.posteriors[item_id]
        best = max(self.classes, key=lambda k: posterior[k])
        return best, posterior[best]

    def probability(self, item_id: str, label: str) -> float:
        """P(the item's true label is `label`); 0.0 for a label no annotator ever gave.
        Raises KeyError for an item the model was not fitted on."""
        return self.posteriors[item_id].get(label, 0.0)


def dawid_skene(
    labels: Mapping[str, Mapping[str, str]],
    *,
    prior_strength: float = 2.0,
    max_iterations: int = 100,
    tolerance: float = 1e-6,
) -> DawidSkene:
    """Fit Dawid-Skene by EM to `labels` (item_id -> {annotator_id: label}).

    EM starts from the soft majority vote (each item's posterior is the share of its votes
    for each class) and stops when no posterior moves by more than `tolerance` or after
    `max_iterations` rounds. `prior_strength` (> 0) sets the pseudo-counts described in
    the module docstring. An item with no labels gets the class prior as its posterior.
    """
    if prior_strength <= 0:
        raise ValueError("prior_strength must be positive")
    if max_iterations < 1:
        raise ValueError("max_iterations must be at least 1")
    classes = sorted({label for votes in labels.values() for label in votes.values()})
    posteriors = {item: _vote_shares(votes, classes) for item, votes in labels.items()}
    class_prior: dict[str, float] = {}
    confusion: dict[str, Confusion] = {}
    iterations = 0
    while iterations < max_iterations:
        iterations += 1
        class_prior = _class_prior(posteriors, classes)
        confusion = _confusions(labels, posteriors, classes, prior_strength)
        updated = {
            item: _posterior(votes, class_prior, confusion, classes)
            for item, votes in labels.items()
        }
        change = max(
            (abs(updated[i][k] - posteriors[i][k]) for i in updated for k in classes),
            default=0.0,
        )
        posteriors = updated
        if change <= tolerance:
            break
    accuracy = {
        annotator: math.fsum(class_prior[k] * rows[k][k] for k in classes)
        for annotator, rows in confusion.items()
    }
    return DawidSkene(classes, class_prior, posteriors, accuracy, iterations, confusion)


def _vote_shares(votes: Mapping[str, str], classes: list[str]) -> dict[str, float]:
    if not votes:
        return {k: 1.0 / len(classes) for k in classes}
    given = list(votes.values())
    return {k: given.count(k) / len(given) for k in classes}


def _class_prior(
    posteriors: Mapping[str, Mapping[str, float]], classes: list[str]
) -> dict[str, float]:
    total = len(posteriors) + len(classes)
    return {k: (math.fsum(p[k] for p in posteriors.values()) + 1.0) / total for k in classes}


def _confusions(
    labels: Mapping[str, Mapping[str, str]],
    posteriors: Mapping[str, Mapping[str, float]],
    classes: list[str],
    prior_strength: float,
) -> dict[str, Confusion]:
    off_diagonal = prior_strength / 2 / (len(classes) - 1) if len(classes) > 1 else 0.0
    counts: dict[str, Confusion] = {}
    for item, votes in labels.items():
        for annotator, given in votes.items():
            rows = counts.get(annotator)
            if rows is None:
                rows = {
                    k: {g: prior_strength if g == k else off_diagonal for g in classes}
                    for k in classes
                }
                counts[annotator] = rows
            for k in classes:
                rows[k][given] += posteriors[item][k]
    for rows in counts.values():
        for row in rows.values():
            total = math.fsum(row.values())
            for given in row:
                row[given] /= total
    return counts


def _posterior(
    votes: Mapping[str, str],
    class_prior: Mapping[str, float],
    confusion: Mapping[str, Confusion],
    classes: list[str],
) -> dict[str, float]:
    log_joint = {
        k: math.log(class_prior[k])
        + math.fsum(math.log(confusion[a][k][given]) for a, given in votes.items())
        for k in classes
    }
    top = max(log_joint.values())
    weights = {k: math.exp(v - top) for k, v in log_joint.items()}
    total = math.fsum(weights.values())
    return {k: w / total for k, w in weights.items()}
