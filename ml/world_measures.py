"""How close the served classifier comes to the best possible on a generated world.

`measure_moderation` trains the classifier as retraining does (a TrainingSet of the
reviewed decisions, oldest first, labelled by the reviewers, with the upstream proposals
as the baseline), stores and reloads it as the store keeps it (JSON and model text), and
scores fresh posts from the same world, later in time:

- accuracies against the generator's own probabilities (the expected accuracy of a
  decision rule: p_remove where it removes, 1 - p_remove where it keeps), for the
  upstream proposals, the served model and the Bayes rule (remove when p_remove > 0.5);
  the realised accuracies against the drawn labels are given beside them;
- gap_closed = (served - upstream) / (bayes - upstream), on the expected accuracies;
- ece: the expected calibration error of the served confidences against the drawn
  labels, 10 equal-width bins (ml.calibration.expected_calibration_error).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ml.calibration import expected_calibration_error
from ml.classifier import TrainingExample, TrainingSet, stored_and_loaded, train_classifier
from ml.moderation_world import REMOVE, SPAN, START, generate_moderation_world

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


def measure_moderation(
    *, seed: int = 13, n_train: int = 3000, n_fresh: int = 4000, num_threads: int = 2
) -> WorldMeasure:
    """Train on n_train reviewed posts, measure on n_fresh later posts (see the module)."""
    reviewed = generate_moderation_world(n_train, seed)
    fresh = generate_moderation_world(n_fresh, seed + 1, start=START + SPAN)
    training = TrainingSet()
    training.add(
        [TrainingExample(p.payload, p.label, p.created_at, p.upstream_action) for p in reviewed]
    )
    trained = train_classifier(training, seed=seed, num_threads=num_threads)
    served = stored_and_loaded(trained)
    predictions = served.predict([p.payload for p in fresh], explain=False)

    p_remove = np.array([p.p_remove for p in fresh])
    drawn = np.array([p.label == REMOVE for p in fresh])
    served_remove = np.array([pr.action == REMOVE for pr in predictions])
    upstream_remove = np.array([p.upstream_action == REMOVE for p in fresh])
    bayes_remove = p_remove > 0.5

    def expected(remove: np.ndarray) -> float:
        return float(np.where(remove, p_remove, 1.0 - p_remove).mean())

    def realised(remove: np.ndarray) -> float:
        return float((remove == drawn).mean())

    upstream, model, bayes = (
        expected(upstream_remove),
        expected(served_remove),
        expected(bayes_remove),
    )
    confidence = np.array([pr.confidence for pr in predictions])
    return WorldMeasure(
        world="moderation (text)",
        n_train=n_train,
        n_fresh=n_fresh,
        upstream=upstream,
        served=model,
        bayes=bayes,
        gap_closed=(model - upstream) / (bayes - upstream),
        ece=expected_calibration_error(confidence, served_remove == drawn, bins=ECE_BINS),
        upstream_realised=realised(upstream_remove),
        served_realised=realised(served_remove),
        bayes_realised=realised(bayes_remove),
        holdout_accuracy=trained.metrics.accuracy,
    )
