"""The boosting loop the classifier and the draft scorer share: LightGBM with early
stopping on a validation set, reporting progress once per round."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import lightgbm as lgb

MAX_ROUNDS = 500
EARLY_STOPPING_ROUNDS = 30


def boost(
    params: dict[str, Any],
    train_set: lgb.Dataset,
    valid_set: lgb.Dataset,
    report: Callable[[float, str], None],
    low: float,
    high: float,
    *,
    max_rounds: int = MAX_ROUNDS,
) -> tuple[lgb.Booster, int, int]:
    """Train until the validation metric stops improving (at most `max_rounds`); progress
    runs from `low` to `high`. Returns the booster (cut at its best round), the rounds run
    and the best one."""
    rounds = [0]

    def on_round(env: Any) -> None:
        done = env.iteration - env.begin_iteration + 1
        rounds[0] = done
        total = env.end_iteration - env.begin_iteration
        report(
            low + (high - low) * done / total, f"training: boosting round {done} of at most {total}"
        )

    booster = lgb.train(
        params,
        train_set,
        num_boost_round=max_rounds,
        valid_sets=[valid_set],
        valid_names=["validation"],
        callbacks=[
            on_round,
            lgb.early_stopping(EARLY_STOPPING_ROUNDS, first_metric_only=True, verbose=False),
        ],
    )
    best = booster.best_iteration if booster.best_iteration > 0 else booster.current_iteration()
    return booster, rounds[0], best


def weighted(dataset: lgb.Dataset, weight: Any) -> lgb.Dataset:
    """The dataset with per-row sample weights (a 1-D array, one per row), or as it is when
    `weight` is None: every row counts once, the training exactly as without weights."""
    if weight is not None:
        dataset.set_weight(weight)
    return dataset


def weight_rows(weight: Any, lo: int, hi: int) -> Any:
    """The weights of rows [lo, hi), or None when there are none."""
    return None if weight is None else weight[lo:hi]
