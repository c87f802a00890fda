"""The baseline of bench/retrain.py: the same training procedure as `train_classifier`,
run by LightGBM on the arrays an end-to-end run trained on.

`save_for_raw` (untimed, after an end-to-end run) writes those arrays (the evaluated
model's rows before the holdout and its holdout rows, the served model's matrix, the
labels) and what the run chose. `worker_raw` (timed) then repeats the LightGBM part of
the procedure on them: the tuning (ml.tuning.tune: the same settings, folds and early
stopping), the evaluated fit (ml.model_fits.fit_evaluated) and its holdout predictions,
and the served refit for the rounds it gives; it checks that it chose what the
end-to-end run chose and that its served trees predict what the stored model does.
What is left out is what the store, the decoding, the featurising, the calibration and
the metrics add, which is what the ratio measures.

Beside it, "one raw fit" (the former baseline): the served refit alone, lgb.Dataset plus
lgb.train on every row for the served rounds, timed within the same run.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from bench.retrain_workers import timed


def _save(path: Path, matrix: Any) -> str:
    import numpy as np
    import scipy.sparse as sp

    if sp.issparse(matrix):
        sp.save_npz(path.with_suffix(".npz"), matrix.tocsr())
        return path.with_suffix(".npz").name
    np.save(path.with_suffix(".npy"), matrix)
    return path.with_suffix(".npy").name


def _load(path: Path) -> Any:
    import numpy as np
    import scipy.sparse as sp

    return sp.load_npz(path) if path.suffix == ".npz" else np.load(path)


def save_for_raw(workdir: Path, examples: Any, trained: Any, seed: int, threads: int) -> None:
    """Untimed: the arrays the end-to-end run trained on (featurised again from the same
    examples, deterministically), and its choices, for `worker_raw`."""
    import numpy as np

    from ml.classifier import prepare

    data = prepare(examples)
    files = {
        "older": _save(
            workdir / "older", data.evaluated_rows(data.train, data.calibration, data.validation)
        ),
        "holdout": _save(workdir / "holdout", data.evaluated_rows(data.holdout)),
        "all": _save(workdir / "all", data.X),
    }
    np.save(workdir / "y.npy", data.y)
    (workdir / "model.txt").write_text(trained.model_text)
    meta = {
        "files": files,
        "seed": seed,
        "threads": threads,
        "n_classes": len(data.classes),
        "n_older": data.holdout.start,
        "validation_start": data.validation.start,
        "evaluated_categorical": data.evaluated_spec.categorical_indices,
        "evaluated_width": data.evaluated_spec.width,
        "categorical": data.spec.categorical_indices,
        "width": data.spec.width,
        "params": trained.params,
        "rounds": trained.rounds_run,
        "tried": trained.tuning,
        "evaluated_on": trained.evaluated_on,
    }
    (workdir / "meta.json").write_text(json.dumps(meta))


def _quiet(fraction: float, message: str) -> None:
    """The raw run reports no progress."""


def worker_raw(workdir: Path) -> dict:
    """Timed: the procedure's LightGBM part on the saved arrays (see the module), and within
    it the served refit alone ("one raw fit"); then whether it chose as the end-to-end run
    did and whether its served trees predict what the stored model does."""
    import lightgbm as lgb
    import numpy as np

    from ml.class_scores import class_probabilities
    from ml.classifier import lightgbm_params
    from ml.model_fits import fit_evaluated
    from ml.tuning import TUNE_ROWS, tune

    meta = json.loads((workdir / "meta.json").read_text())
    older, holdout, every = (_load(workdir / meta["files"][k]) for k in ("older", "holdout", "all"))
    y = np.load(workdir / "y.npy")
    n_older, n_classes = meta["n_older"], meta["n_classes"]

    def dataset(rows: Any, labels: Any, reference: Any, width: int, categorical: list) -> Any:
        return lgb.Dataset(
            rows,
            label=labels,
            reference=reference,
            feature_name=[f"f{i}" for i in range(width)],
            categorical_feature=categorical,
            params={"feature_pre_filter": False},
            free_raw_data=False,
        )

    def evaluated_dataset(rows: Any, labels: Any, reference: Any) -> Any:
        return dataset(
            rows, labels, reference, meta["evaluated_width"], meta["evaluated_categorical"]
        )

    base = lightgbm_params(
        min(n_older, TUNE_ROWS), n_classes, seed=meta["seed"], num_threads=meta["threads"]
    )
    with timed() as clock:
        tuning = tune(older, y[:n_older], base, evaluated_dataset, _quiet)
        params = {**tuning.best.params, "num_threads": meta["params"]["num_threads"]}
        fit = fit_evaluated(
            tuning, params, older, y, meta["validation_start"], evaluated_dataset, _quiet
        )
        class_probabilities(fit.booster.predict(holdout))
        one_fit_started = time.perf_counter()
        served = lgb.train(
            params,
            dataset(every, y, None, meta["width"], meta["categorical"]),
            num_boost_round=fit.served_rounds,
        )
        one_fit_seconds = time.perf_counter() - one_fit_started
    stored = lgb.Booster(model_str=(workdir / "model.txt").read_text())
    sample = every[:2000]
    same = bool(np.allclose(served.predict(sample), stored.predict(sample), rtol=0, atol=1e-12))
    return {
        **clock.times(),
        **clock.memory(),
        "one_fit_seconds": one_fit_seconds,
        "rounds": served.current_iteration(),
        "same_choices_as_end_to_end": tuning.tried == meta["tried"]
        and params == meta["params"]
        and fit.served_rounds == meta["rounds"]
        and fit.fitted_on == meta["evaluated_on"],
        "same_trees_as_end_to_end": same,
    }
