"""How close the served classifier comes to the best possible on a generated world.

`measure_world` (a loan world of ml.worlds, its planted rule) and `measure_moderation`
(ml.moderation_world) train the classifier as retraining does (a TrainingSet of the
reviewed decisions, oldest first, labelled by the reviewers, with the upstream proposals
as the baseline), stores and reloads it as the store keeps it (JSON and model text), and
scores fresh cases from the same world, later in time:

- accuracies against the generator's own probabilities (the expected accuracy of a
  decision rule: moderation, p_remove where it removes, 1 - p_remove where it keeps;
  loans, 1 - noise where it takes the rule's action, ml.worlds.expected_accuracy), for
  the upstream proposals, the served model and the Bayes rule (moderation: remove when
  p_remove > 0.5; loans: the rule's action);
  the realised accuracies against the drawn labels are given beside them;
- gap_closed = (served - upstream) / (bayes - upstream), on the expected accuracies;
- ece: the expected calibration error of the served confidences against the drawn
  labels, 10 equal-width bins (ml.calibration.expected_calibration_error).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ml.calibration import expected_calibration_error
from ml.classifier import TrainingExample, TrainingSet, stored_and_loaded, train_classifier
from ml.moderation_world import KEEP, REMOVE, generate_moderation_world
from ml.moderation_world import START as MODERATION_START
from ml.worlds import (
    ACTIONS,
    ACTIONS_THREE,
    SPAN,
    START,
    expected_accuracy,
    generate_world,
    training_examples,
)

ECE_BINS = 10


@dataclass
class WorldMeasure:
    world: str
    n_train: int
    n_fresh: int
    upstream: float  # expected accuracies on the fresh cases
    served: float
    bayes: float
    gap_closed: float
    ece: float  # served confidences vs drawn labels, ECE_BINS equal-width bins
    upstream_realised: float  # accuracies against the drawn labels
    served_realised: float
    bayes_realised: float
    holdout_accuracy: float  # the training job's own holdout figure

    def row(self) -> str:
        """A BENCHMARKS.md table row."""
        return (
            f"| {self.world} | {self.n_train} / {self.n_fresh} | {self.upstream:.1%} | "
            f"{self.served:.1%} | {self.bayes:.1%} | {self.gap_closed:.0%} | {self.ece:.3f} |"
        )


def _measure(
    world: str,
    examples: list[TrainingExample],
    fresh_payloads: list[dict[str, Any]],
    expected: Callable[[list[str]], float],
    drawn: list[str],
    upstream: list[str],
    bayes: list[str],
    *,
    seed: int,
    num_threads: int,
) -> WorldMeasure:
    """Train as retraining does, serve the stored model, score the fresh cases and
    compare: `expected(actions)` is a decision rule's accuracy from the generator's own
    probabilities, `drawn` the labels drawn from them."""
    training = TrainingSet()
    training.add(examples)
    trained = train_classifier(training, seed=seed, num_threads=num_threads)
    predictions = stored_and_loaded(trained).predict(fresh_payloads, explain=False)
    served = [p.action for p in predictions]
    truth = np.array(drawn)

    def realised(actions: list[str]) -> float:
        return float((np.array(actions) == truth).mean())

    up, model, best = expected(upstream), expected(served), expected(bayes)
    confidence = np.array([p.confidence for p in predictions])
    return WorldMeasure(
        world=world,
        n_train=len(examples),
        n_fresh=len(fresh_payloads),
        upstream=up,
        served=model,
        bayes=best,
        gap_closed=(model - up) / (best - up),
        ece=expected_calibration_error(confidence, np.array(served) == truth, bins=ECE_BINS),
        upstream_realised=realised(upstream),
        served_realised=realised(served),
        bayes_realised=realised(bayes),
        holdout_accuracy=trained.metrics.accuracy,
    )


def measure_world(
    rule: str,
    *,
    seed: int = 1,
    n_train: int = 3000,
    n_fresh: int = 4000,
    three_actions: bool = False,
    num_threads: int = 2,
) -> WorldMeasure:
    """A loan world of ml.worlds (its planted `rule`): train on n_train reviewed cases,
    measure on n_fresh later cases. The Bayes rule takes each case's rule action."""
    reviewed = generate_world(n_train, seed, rule, three_actions=three_actions)
    fresh = generate_world(n_fresh, seed + 1, rule, three_actions=three_actions, start=START + SPAN)
    n_actions = len(ACTIONS_THREE if three_actions else ACTIONS)
    return _measure(
        rule + (" (3 actions)" if three_actions else ""),
        training_examples(reviewed),
        [c.payload for c in fresh],
        lambda actions: expected_accuracy(fresh, actions, n_actions=n_actions),
        [c.true_action for c in fresh],
        [c.upstream_action for c in fresh],
        [c.bayes_action for c in fresh],
        seed=seed,
        num_threads=num_threads,
    )


def measure_moderation(
    *, seed: int = 13, n_train: int = 3000, n_fresh: int = 4000, num_threads: int = 2
) -> WorldMeasure:
    """Train on n_train reviewed posts, measure on n_fresh later posts (see the module)."""
    reviewed = generate_moderation_world(n_train, seed)
    fresh = generate_moderation_world(n_fresh, seed + 1, start=MODERATION_START + SPAN)
    p_remove = np.array([p.p_remove for p in fresh])

    def expected(actions: list[str]) -> float:
        remove = np.array([a == REMOVE for a in actions])
        return float(np.where(remove, p_remove, 1.0 - p_remove).mean())

    return _measure(
        "moderation (text)",
        [TrainingExample(p.payload, p.label, p.created_at, p.upstream_action) for p in reviewed],
        [p.payload for p in fresh],
        expected,
        [p.label for p in fresh],
        [p.upstream_action for p in fresh],
        [REMOVE if p.p_remove > 0.5 else KEEP for p in fresh],
        seed=seed,
        num_threads=num_threads,
    )
