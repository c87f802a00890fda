"""Benchmark: how much of the gap between the upstream proposals and the Bayes rule the
served classifier closes on generated worlds: the loan worlds of ml.worlds (one per
planted rule, and the three-action variant of young_healthcare) and the moderation
world, where the evidence is text (ml.moderation_world); measured by
ml.world_measures.measure_world and measure_moderation.

    .venv/bin/python -m bench.learning_worlds [--seeds 1 2 3] [--moderation-seeds 13]

Each world is trained once on --train reviewed decisions as retraining does and measured
on --fresh later cases. Prints one BENCHMARKS.md row per world and seed (world, reviewed /
fresh, upstream, served, Bayes accuracy, share of the gap closed, ECE with 10
equal-width bins) and the realised accuracies against the drawn labels beside them.
"""

from __future__ import annotations

import argparse

from ml.world_measures import ECE_BINS, WorldMeasure, measure_moderation, measure_world
from ml.worlds import RULES

HEADER = (
    "| world (seed) | reviewed / fresh | upstream | served | Bayes | gap closed | "
    f"ECE ({ECE_BINS} bins) |\n|---|---|---|---|---|---|---|"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, nargs="*", default=[1])
    parser.add_argument("--moderation-seeds", type=int, nargs="*", default=[13])
    parser.add_argument("--train", type=int, default=3000)
    parser.add_argument("--fresh", type=int, default=4000)
    args = parser.parse_args()
    print(HEADER)
    realised = []

    def show(m: WorldMeasure, seed: int) -> None:
        print(m.row().replace(m.world, f"{m.world} ({seed})", 1), flush=True)
        realised.append(
            f"{m.world} seed {seed}: realised upstream {m.upstream_realised:.1%}, served "
            f"{m.served_realised:.1%}, Bayes {m.bayes_realised:.1%}; job's holdout "
            f"accuracy {m.holdout_accuracy:.1%}"
        )

    sizes = {"n_train": args.train, "n_fresh": args.fresh}
    for seed in args.seeds:
        for rule in RULES:
            show(measure_world(rule, seed=seed, **sizes), seed)
        show(measure_world("young_healthcare", seed=seed, three_actions=True, **sizes), seed)
    for seed in args.moderation_seeds:
        show(measure_moderation(seed=seed, **sizes), seed)
    print()
    print("\n".join(realised))


if __name__ == "__main__":
    main()
