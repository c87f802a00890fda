"""Training, calibration and scoring on generated worlds (pure, no database).

The worlds plant a rule the upstream model misses; a model trained on the
humans' decisions must learn it, beat the upstream proposals on fresh data,
be calibrated on its holdout, and explain its calls with payload fields.
"""

from __future__ import annotations

import json
import random
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import lightgbm as lgb
import numpy as np
import pytest

from ml.calibration import (
    MIN_CALIBRATION_EXAMPLES,
    apply_calibration,
    expected_calibration_error,
    fit_calibration,
)
from ml.classifier import (
    InsufficientData,
    LoadedClassifier,
    TrainedClassifier,
    TrainingExample,
    prepare,
    stored_and_loaded,
    train_classifier,
)
from ml.features import encode, flatten
from ml.worlds import RULES, WorldCase, generate_world, training_examples

N_TRAIN = 6000
N_FRESH = 4000
WORLDS = [(rule, seed) for rule in RULES for seed in (1, 2)]


def roundtrip(trained: TrainedClassifier) -> LoadedClassifier:
    """Load the classifier from what the store keeps: JSON and model text."""
    return stored_and_loaded(trained)


@pytest.fixture(scope="module")
def trained_worlds() -> dict[tuple[str, int], tuple[list[WorldCase], TrainedClassifier]]:
    out = {}
    for rule, seed in WORLDS:
        cases = generate_world(N_TRAIN, seed, rule)
        examples = training_examples(cases)
        random.Random(seed).shuffle(examples)  # the split must come from decided_at
        out[(rule, seed)] = (cases, train_classifier(examples, seed=seed, num_threads=2))
    return out


@pytest.mark.parametrize(("rule", "seed"), WORLDS)
def test_beats_the_upstream_proposals_on_fresh_data(
    trained_worlds: dict, rule: str, seed: int
) -> None:
    _, trained = trained_worlds[(rule, seed)]
    fresh = generate_world(N_FRESH, seed + 1000, rule)
    predictions = roundtrip(trained).predict([c.payload for c in fresh], explain=False)
    model = np.mean([p.action == c.true_action for p, c in zip(predictions, fresh, strict=True)])
    upstream = np.mean([c.upstream_action == c.true_action for c in fresh])
    assert model >= upstream + 0.05, (model, upstream)
    # And it learned the rule the upstream misses.
    planted = [p.action for p, c in zip(predictions, fresh, strict=True) if c.planted]
    assert np.mean([a == RULES[rule].action for a in planted]) > 0.9


@pytest.mark.parametrize(("rule", "seed"), WORLDS)
def test_holdout_metrics(trained_worlds: dict, rule: str, seed: int) -> None:
    cases, trained = trained_worlds[(rule, seed)]
    m = trained.metrics
    assert m.holdout_size == N_TRAIN // 5
    assert m.calibration_error <= 0.05
    assert m.accuracy >= m.baseline_accuracy + 0.05
    assert 0.0 < m.log_loss < 0.3
    # Baseline: the upstream's accuracy on the newest holdout_size cases, computed here.
    newest = sorted(cases, key=lambda c: c.created_at)[-m.holdout_size :]
    upstream = sum(c.upstream_action == c.true_action for c in newest) / len(newest)
    assert m.baseline_accuracy == pytest.approx(upstream, abs=1e-12)
    assert trained.split["holdout"] == m.holdout_size
    assert sum(trained.split.values()) == N_TRAIN
    # The holdout figures are the evaluated model's, fitted on what precedes the holdout;
    # the served model is refitted on every label, for more rounds.
    assert m.evaluated_on == trained.evaluated_on == N_TRAIN - m.holdout_size
    assert trained.trained_on == N_TRAIN
    assert trained.classes == ["approve", "decline"]
    assert set(RULES[rule].fields) <= set(trained.used_features) <= set(trained.spec.names)
    assert 0 < trained.best_iteration == trained.rounds_run
    assert len(trained.tuning) > 1
    # Calibrations chosen by their cross-fitted log loss (isotonic on these worlds was
    # asserted before; the evidence now decides, per model).
    for calibration in (trained.calibration, trained.evaluated_calibration):
        scores = calibration["chosen_by"]
        assert calibration["method"] == min(scores, key=scores.__getitem__)
    assert m.calibration_method == trained.evaluated_calibration["method"]


@pytest.mark.parametrize(("rule", "seed"), WORLDS[:2])
def test_loaded_classifier_scores_as_the_trained_one(
    trained_worlds: dict, rule: str, seed: int
) -> None:
    # The served model has seen the holdout (it is refitted on every label), so what the
    # store gives back is checked against the trained objects themselves, not JSON.
    cases, trained = trained_worlds[(rule, seed)]
    newest = sorted(cases, key=lambda c: c.created_at)[-trained.metrics.holdout_size :]
    payloads = [c.payload for c in newest]
    predictions = roundtrip(trained).predict(payloads, explain=False)
    booster = lgb.Booster(model_str=trained.model_text)
    in_memory = LoadedClassifier(trained.spec, trained.classes, booster, trained.calibration)
    assert predictions == in_memory.predict(payloads, explain=False)
    assert booster.current_iteration() == trained.best_iteration
    for p in predictions[:50]:
        assert sum(p.probabilities.values()) == pytest.approx(1.0)
        assert p.confidence == p.probabilities[p.action] == max(p.probabilities.values())


@pytest.mark.parametrize("rule", list(RULES))
def test_contributions_name_the_planted_fields(trained_worlds: dict, rule: str) -> None:
    _, trained = trained_worlds[(rule, 1)]
    fresh = [c for c in generate_world(N_FRESH, 77, rule) if c.planted][:200]
    predictions = roundtrip(trained).predict([c.payload for c in fresh])
    declined = [(p, c) for p, c in zip(predictions, fresh, strict=True) if p.action == "decline"]
    assert len(declined) > 0.9 * len(fresh)
    fields = set(RULES[rule].fields)
    top_two = [{name for name, _, _ in p.contributions[:2]} & fields for p, _ in declined]
    assert np.mean([bool(hit) for hit in top_two]) >= 0.9
    for p, case in declined:
        assert 0 < len(p.contributions) <= 10
        sizes = [abs(c) for _, _, c in p.contributions]
        assert sizes == sorted(sizes, reverse=True)
        assert all(size > 0 for size in sizes)
        flat = flatten(case.payload)
        for name, value, _ in p.contributions:
            assert name in trained.spec.names
            assert value == flat.get(name), name


def test_three_actions_train_a_multiclass_model() -> None:
    cases = generate_world(N_TRAIN, 5, "young_healthcare", three_actions=True)
    trained = train_classifier(training_examples(cases))
    assert trained.classes == ["approve", "decline", "refer"]
    assert trained.metrics.calibration_error <= 0.05
    fresh = generate_world(2000, 55, "young_healthcare", three_actions=True)
    loaded = roundtrip(trained)
    predictions = loaded.predict([c.payload for c in fresh], explain=False)
    model = np.mean([p.action == c.true_action for p, c in zip(predictions, fresh, strict=True)])
    upstream = np.mean([c.upstream_action == c.true_action for c in fresh])
    assert model >= upstream + 0.05
    refer = next(c for c in fresh if c.true_action == "refer" and not c.planted)
    (explained,) = loaded.predict([refer.payload])
    assert explained.action == "refer"
    assert "loan.amount" in [name for name, _, _ in explained.contributions[:3]]


def test_training_is_deterministic() -> None:
    examples = training_examples(generate_world(3000, 9, "high_debt_retail"))
    first = train_classifier(examples, seed=3)
    second = train_classifier(list(reversed(examples)), seed=3)
    assert first.model_text == second.model_text
    assert first.calibration == second.calibration
    assert first.metrics == second.metrics
    assert first.spec == second.spec


def test_progress_rises_to_one() -> None:
    calls: list[tuple[float, str]] = []
    train_classifier(
        training_examples(generate_world(1000, 4)),
        progress=lambda fraction, message: calls.append((fraction, message)),
    )
    fractions = [f for f, _ in calls]
    assert fractions[0] == 0.0
    assert fractions[-1] == 1.0
    assert fractions == sorted(fractions)
    assert any(0.1 < f < 0.8 for f in fractions)  # per boosting round
    assert all(isinstance(m, str) and m for _, m in calls)


def test_insufficient_data() -> None:
    cases = generate_world(200, 6)
    with pytest.raises(InsufficientData, match="at least 40"):
        train_classifier(training_examples(cases[:30]))
    same_label = [
        TrainingExample(c.payload, "approve", c.created_at, c.upstream_action) for c in cases
    ]
    with pytest.raises(InsufficientData, match="two"):
        train_classifier(same_label)
    with pytest.raises(InsufficientData):
        train_classifier(training_examples(cases[:12]), min_examples=5)


def test_small_data_trains_with_identity_calibration_and_mixed_timezones() -> None:
    examples = training_examples(generate_world(60, 8))
    for e in examples[::2]:
        e.decided_at = e.decided_at.astimezone(UTC).replace(tzinfo=None)  # naive = UTC
    trained = train_classifier(examples)
    assert trained.calibration["method"] == "identity"  # 7 calibration examples
    assert trained.metrics.holdout_size == 12
    loaded = roundtrip(trained)
    (prediction,) = loaded.predict([{}])
    assert prediction.action in trained.classes


def test_scoring_tolerates_unseen_missing_and_wrong_values(trained_worlds: dict) -> None:
    _, trained = trained_worlds[("young_healthcare", 1)]
    loaded = roundtrip(trained)
    odd: list[dict[str, Any]] = [
        {},
        {"industry": "mining", "company_age_years": "young", "owner": {"age": None}},
        {"industry": 7, "has_collateral": "yes", "tags": "not a list", "extra": {"x": 1}},
    ]
    predictions = loaded.predict(odd)
    assert [p.action in trained.classes for p in predictions] == [True] * 3
    assert predictions[1].probabilities.keys() == {"approve", "decline"}
    assert loaded.predict([]) == []


def test_predict_from_threads_matches_sequential(trained_worlds: dict) -> None:
    cases, trained = trained_worlds[("foreign_unverified", 2)]
    loaded = roundtrip(trained)
    batches = [[c.payload for c in cases[i : i + 50]] for i in range(0, 400, 50)]
    sequential = [loaded.predict(b) for b in batches]
    with ThreadPoolExecutor(4) as pool:
        threaded = list(pool.map(loaded.predict, batches))
    assert threaded == sequential


def test_calibration_fixes_overconfidence_and_is_plain_json() -> None:
    rng = np.random.default_rng(0)
    n = 5000
    p1 = rng.uniform(0, 1, n)
    labels = (rng.uniform(0, 1, n) < 0.5 + (p1 - 0.5) * 0.5).astype(int)  # overconfident model
    probs = np.column_stack([1 - p1, p1])
    before = expected_calibration_error(probs.max(1), probs.argmax(1) == labels)
    calibration = json.loads(json.dumps(fit_calibration(probs, labels, 2)))
    fresh_p1 = rng.uniform(0, 1, n)
    fresh_labels = (rng.uniform(0, 1, n) < 0.5 + (fresh_p1 - 0.5) * 0.5).astype(int)
    calibrated = apply_calibration(calibration, np.column_stack([1 - fresh_p1, fresh_p1]))
    np.testing.assert_allclose(calibrated.sum(1), 1.0)
    after = expected_calibration_error(calibrated.max(1), calibrated.argmax(1) == fresh_labels)
    assert before > 0.1
    assert after < 0.03
    assert calibration["method"] == "isotonic"
    assert set(calibration["per_class"][0]) == {"x", "y"}


def test_calibration_falls_back_to_identity_on_small_slices() -> None:
    probs = np.array([[0.2, 0.8]] * (MIN_CALIBRATION_EXAMPLES - 1))
    calibration = fit_calibration(probs, np.ones(len(probs), dtype=int), 2)
    assert calibration["method"] == "identity"
    assert "at least 20" in calibration["reason"]
    np.testing.assert_allclose(apply_calibration(calibration, probs), probs)


def test_expected_calibration_error() -> None:
    assert expected_calibration_error(np.array([1.0, 1.0]), np.array([True, False])) == 0.5
    assert expected_calibration_error(np.array([0.75] * 4), np.array([1, 1, 1, 0])) == 0.0
    assert expected_calibration_error(np.array([]), np.array([])) == 0.0


def test_worlds_are_deterministic_and_explain_their_overrides() -> None:
    first, second = (
        generate_world(3000, 12, "foreign_unverified"),
        generate_world(3000, 12, "foreign_unverified"),
    )
    assert first == second
    assert [c.created_at for c in first] == sorted(c.created_at for c in first)
    assert first[-1].created_at - first[0].created_at < timedelta(days=181)
    overrides = [c for c in first if c.true_action != c.upstream_action]
    assert all(c.reason for c in overrides)
    assert all(c.reason is None for c in first if c.true_action == c.upstream_action)
    planted = [c for c in overrides if c.concern == "foreign_unverified"]
    assert len(planted) > 0.6 * len(overrides)
    assert len({c.reason for c in planted}) > 20  # many phrasings of one concern
    assert all(c.planted for c in planted)


def _newest_only_examples(n: int = 2000) -> list[TrainingExample]:
    """Amounts over 70 are rejected; in the newest 20% (the holdout) a new channel, kiosk,
    is always rejected, and so is a free-text note asking for bitcoin (a benign note is
    not), neither of them seen before."""
    rng = np.random.default_rng(11)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    examples = []
    for i in range(n):
        amount = float(rng.uniform(0, 100))
        payload: dict[str, Any] = {"amount": amount, "channel": ["web", "phone"][i % 2]}
        label = "reject" if amount > 70 else "approve"
        if i >= n * 0.8:
            if i % 4 == 0:
                payload["channel"], label = "kiosk", "reject"
            elif i % 4 == 1:
                payload["note"], label = f"send bitcoin to wallet {i} for a refund", "reject"
            elif i % 4 == 2:
                payload["note"] = f"the parcel {i} arrived late and dented"
        examples.append(TrainingExample(payload, label, start + timedelta(minutes=i), "approve"))
    return examples


def test_the_served_model_knows_what_only_the_holdout_has() -> None:
    examples = _newest_only_examples()
    trained = train_classifier(examples, seed=5)
    evaluated = trained.evaluated_spec
    assert evaluated is not None
    served = {f.name: f for f in trained.spec.features}
    # The served model's spec is every label's: the new category and the text field ...
    assert "kiosk" in served["channel"].categories and served["note"].kind == "text"
    assert {"channel", "note"} <= set(trained.used_features)
    # ... the evaluated model's is only theirs before the holdout.
    assert "note" not in evaluated.names
    assert "kiosk" not in evaluated.features[evaluated.names.index("channel")].categories
    loaded = roundtrip(trained)
    assert loaded.spec == trained.spec  # scoring encodes as the served model was trained
    X = prepare(examples).X
    np.testing.assert_array_equal(encode(loaded.spec, [e.payload for e in examples]), X.toarray())
    low = {"amount": 20.0}
    asked = [
        {**low, "channel": "web"},
        {**low, "channel": "kiosk"},
        {**low, "channel": "web", "note": "the parcel 2002 arrived late and dented"},
        {**low, "channel": "web", "note": "send bitcoin to wallet 2001 for a refund"},
    ]
    actions = [p.action for p in loaded.predict(asked, explain=False)]
    assert actions == ["approve", "reject", "approve", "reject"]

    # The holdout figures come from a model that never saw the holdout: without the new
    # channel and the notes in the holdout's payloads they are the same, to the bit.
    plain = [
        TrainingExample(
            {"amount": e.payload["amount"]} if "kiosk" in e.payload.values() else dict(e.payload),
            e.label,
            e.decided_at,
            e.proposed_action,
        )
        for e in examples
    ]
    for e in plain:
        e.payload.pop("note", None)
    without = train_classifier(plain, seed=5)
    assert without.evaluated_spec == evaluated
    assert without.metrics == trained.metrics
    assert without.spec != trained.spec
