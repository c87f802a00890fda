"""Benchmark: how much of the gap to the Bayes rule the served classifier closes on a
generated world where the evidence is text (ml.moderation_world, measured by
ml.world_measures.measure_moderation).

    .venv/bin/python -m bench.learning_worlds [--seeds 13 14 15]

Prints one BENCHMARKS.md row per seed (world, reviewed / fresh posts, upstream, served,
Bayes accuracy, share of the gap closed, ECE with 10 equal-width bins) and the realised
accuracies against the drawn labels beside them.
"""

from __future__ import annotations

import argparse

from ml.world_measures import ECE_BINS, measure_moderation

HEADER = (
    "| world (seed) | reviewed / fresh | upstream | served | Bayes | gap closed | "
    f"ECE ({ECE_BINS} bins) |\n|---|---|---|---|---|---|---|"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[13])
    parser.add_argument("--train", type=int, default=3000)
    parser.add_argument("--fresh", type=int, default=4000)
    args = parser.parse_args()
    print(HEADER)
    realised = []
    for seed in args.seeds:
        m = measure_moderation(seed=seed, n_train=args.train, n_fresh=args.fresh)
        print(m.row().replace(m.world, f"{m.world} ({seed})", 1))
        realised.append(
            f"seed {seed}: realised upstream {m.upstream_realised:.1%}, served "
            f"{m.served_realised:.1%}, Bayes {m.bayes_realised:.1%}; job's holdout "
            f"accuracy {m.holdout_accuracy:.1%}"
        )
    print()
    print("\n".join(realised))


if __name__ == "__main__":
    main()
