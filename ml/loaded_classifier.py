"""Scoring with a stored classifier (`LoadedClassifier`): it needs only the stored data,
spec JSON, classes, model text and calibration JSON."""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np

from ml.calibration import apply_calibration
from ml.class_scores import class_contributions, class_probabilities, decide
from ml.features import FeatureSpec, encode_columns, flatten_columns
from ml.text_columns import describe, score_signs, strongest_phrases

TOP_CONTRIBUTIONS = 10


@dataclass
class Prediction:
    """A scored payload: the chosen action, its calibrated confidence, why."""

    action: str
    confidence: float
    probabilities: dict[str, float]
    # (payload field, its raw value or None, contribution to the predicted class's raw
    # score); a text field's value is its strongest phrases ("'double your bitcoin'")
    contributions: list[tuple[str, Any, float]]


class LoadedClassifier:
    """A stored classifier, ready to score payloads. predict() may be called from several
    threads (asyncio.to_thread); calls are serialised by a lock around LightGBM."""

    def __init__(
        self,
        spec: FeatureSpec,
        classes: list[str],
        booster: lgb.Booster,
        calibration: dict[str, Any],
        num_threads: int = 1,
    ) -> None:
        if booster.num_feature() != spec.width:
            raise ValueError(f"model has {booster.num_feature()} features, spec has {spec.width}")
        per_round = booster.num_model_per_iteration()
        if len(classes) < 2 or per_round != (1 if len(classes) == 2 else len(classes)):
            raise ValueError(f"model with {per_round} trees per round for classes {classes}")
        self.spec = spec
        self.classes = list(classes)
        self.booster = booster
        self.calibration = calibration
        self.num_threads = num_threads
        self._lock = threading.Lock()

    @classmethod
    def load(
        cls,
        spec_json: Mapping[str, Any],
        classes: list[str],
        model_text: str,
        calibration: dict[str, Any],
        *,
        num_threads: int = 1,
    ) -> LoadedClassifier:
        booster = lgb.Booster(model_str=model_text)
        return cls(FeatureSpec.from_json(spec_json), classes, booster, calibration, num_threads)

    def predict(
        self, payloads: Sequence[Mapping[str, Any]], *, explain: bool = True
    ) -> list[Prediction]:
        """One Prediction per payload. Contributions (SHAP values from LightGBM's
        pred_contrib, on the raw score of the predicted class, before calibration) name
        payload fields with the payload's value (None if missing); the top 10 by absolute
        value, zeros and the bias left out. A text field's contribution is the sum of its
        columns' (its n-grams' and its linear model's scores) and its value the words that
        pushed most towards the chosen class (ml.text_columns.strongest_phrases), or the
        text itself if none did.
        explain=False skips them (several times faster)."""
        if not payloads:
            return []
        columns = flatten_columns(payloads)
        X = encode_columns(self.spec, columns)
        with self._lock:
            raw = self.booster.predict(X, num_threads=self.num_threads)
            contrib = (
                self.booster.predict(X, pred_contrib=True, num_threads=self.num_threads)
                if explain
                else None
            )
        raw_probs = class_probabilities(raw)
        probs = apply_calibration(self.calibration, raw_probs)
        chosen = decide(probs, raw_probs)
        names = self.spec.names
        per_class = (
            None
            if contrib is None
            else class_contributions(contrib, self.spec.width, len(self.classes))
        )
        owner = self.spec.column_features()
        ranges = self.spec.column_ranges()
        texts = [j for j, f in enumerate(self.spec.features) if f.kind == "text"]
        missing = [None] * len(payloads)
        raw_values = [columns.values.get(name, missing) for name in names]
        out = []
        for i in range(len(payloads)):
            k = int(chosen[i])
            contributions: list[tuple[str, Any, float]] = []
            if per_class is not None:
                by_column = per_class[i, k, :-1]
                values = np.bincount(owner, weights=by_column, minlength=len(names))
                order = np.argsort(-np.abs(values), kind="stable")[:TOP_CONTRIBUTIONS]
                shown = [raw_values[j][i] for j in range(len(names))]
                for j in texts:
                    if j in order and isinstance(shown[j], str):
                        start, stop = ranges[j]
                        info = self.spec.features[j]
                        phrases = strongest_phrases(
                            shown[j],
                            by_column[start:stop],
                            info.n_hash,
                            info.text_model,
                            score_signs(len(self.classes), k),
                        )
                        shown[j] = describe(phrases) if phrases else shown[j]
                contributions = [
                    (names[j], shown[j], float(values[j]))
                    for j in order
                    if values[j] != 0.0 and math.isfinite(values[j])
                ]
            out.append(
                Prediction(
                    action=self.classes[k],
                    confidence=float(probs[i, k]),
                    probabilities={
                        c: float(p) for c, p in zip(self.classes, probs[i], strict=True)
                    },
                    contributions=contributions,
                )
            )
        return out
