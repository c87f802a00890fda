"""The draft scorer on a generated outcome rule (pure, no database).

Subject lines are put together from parts; their open rate follows a planted rule:

    open_rate = 0.20
        + 0.03  if it speaks to the reader ("you", "your")
        + 0.02  if it has a number
        - 0.0008 per character over 40
        - 0.04  if written in capitals
        - 0.01  per "!" (at most three count)
        + 0.03  for the "vip" segment (payload)
        + noise N(0, 0.01)

A scorer trained on the outcomes must beat the mean on its holdout and rank a subject
the rule prefers above one it does not.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from ml.scorer import (
    InsufficientOutcomes,
    LoadedScorer,
    OutcomeExample,
    TrainedScorer,
    train_scorer,
)
from ml.text_features import TEXT_FEATURE_NAMES, hand_features, n_columns, text_features

N = 1500
START = datetime(2025, 3, 1, tzinfo=UTC)
TOPICS = (
    "spring sale",
    "new arrivals",
    "weekly digest",
    "product update",
    "holiday offers",
    "member rewards",
    "webinar invite",
    "travel deals",
    "summer collection",
    "account news",
)
PERSONAL = ("your", "for you:", "you'll love our", "you asked for")
FILLERS = (
    "from the whole team here at our store",
    "with everything that changed this month",
    "and a few more things worth a look",
    "plus details inside this email today",
)
SEGMENTS = ("vip", "regular", "new", "lapsed")


def rule(subject: str, segment: str) -> float:
    words = {w.strip(":!").lower() for w in subject.split()}
    letters = [c for c in subject if c.isalpha()]
    value = 0.20
    value += 0.03 if words & {"you", "your", "you'll"} else 0.0
    value += 0.02 if any(c.isdigit() for c in subject) else 0.0
    value -= 0.0008 * max(0, len(subject) - 40)
    value -= 0.04 if letters and sum(c.isupper() for c in letters) / len(letters) > 0.6 else 0.0
    value -= 0.01 * min(3, subject.count("!"))
    value += 0.03 if segment == "vip" else 0.0
    return value


def make_subject(rng: np.random.Generator) -> str:
    topic = str(rng.choice(TOPICS))
    parts = []
    if rng.random() < 0.5:
        parts.append(str(rng.choice(PERSONAL)))
    if rng.random() < 0.5:
        parts.append(f"{int(rng.integers(2, 20))}")
    parts.append(topic)
    if rng.random() < 0.4:
        parts.append(str(rng.choice(FILLERS)))
    subject = " ".join(parts)
    subject = subject[0].upper() + subject[1:]
    if rng.random() < 0.2:
        subject = subject.upper()
    return subject + "!" * int(rng.choice([0, 0, 1, 2, 3]))


def generate(n: int, seed: int) -> list[OutcomeExample]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        subject = make_subject(rng)
        segment = str(rng.choice(SEGMENTS))
        payload = {"segment": segment, "list_size": int(rng.integers(100, 50_000))}
        value = rule(subject, segment) + float(rng.normal(0.0, 0.01))
        out.append(OutcomeExample(subject, payload, value, START + timedelta(hours=i)))
    # Given out of order: the split must come from recorded_at.
    return [out[i] for i in rng.permutation(n)]


def roundtrip(trained: TrainedScorer) -> LoadedScorer:
    """Load the scorer from what the store keeps: JSON and model text."""
    stored = json.loads(
        json.dumps(
            {
                "spec": trained.spec.to_json(),
                "model_text": trained.model_text,
                "n_hash": trained.n_hash,
            }
        )
    )
    return LoadedScorer.load(stored["spec"], stored["model_text"], stored["n_hash"])


@pytest.fixture(scope="module")
def examples() -> list[OutcomeExample]:
    return generate(N, seed=3)


@pytest.fixture(scope="module")
def trained(examples: list[OutcomeExample]) -> tuple[TrainedScorer, list[tuple[float, str]]]:
    calls: list[tuple[float, str]] = []
    scorer = train_scorer(examples, progress=lambda f, m: calls.append((f, m)))
    return scorer, calls


def test_beats_the_mean_on_its_holdout(trained: tuple[TrainedScorer, Any]) -> None:
    scorer, _ = trained
    m = scorer.metrics
    assert m.holdout_size == round(N * 0.2)
    assert m.r2 > 0.5, m
    assert m.mean_absolute_error < 0.7 * m.baseline_mean_absolute_error, m
    assert scorer.trained_on == scorer.split["train"]
    assert sum(scorer.split.values()) == N
    assert "segment" in scorer.used_features
    assert any(name.startswith("content:") for name in scorer.used_features)


PAIRS = [
    # (preferred by the rule, not preferred)
    ("Your 5 travel deals", "TRAVEL DEALS!!!"),
    ("You asked for 3 new arrivals", "New arrivals from the whole team here at our store!!"),
    ("Your spring sale", "SPRING SALE!!"),
    ("For you: 12 member rewards", "Member rewards and a few more things worth a look"),
    ("You'll love our 7 webinar invite", "WEBINAR INVITE PLUS DETAILS INSIDE THIS EMAIL TODAY!"),
]


@pytest.mark.parametrize("segment", ["regular", "vip"])
def test_ranks_what_the_rule_prefers_first(
    trained: tuple[TrainedScorer, Any], segment: str
) -> None:
    loaded = roundtrip(trained[0])
    payload = {"segment": segment, "list_size": 5000}
    for good, bad in PAIRS:
        assert rule(good, segment) > rule(bad, segment) + 0.03  # the pairs mean what they say
        g, b = loaded.predict([good, bad], [payload, payload])
        assert g > b + 0.02, (good, g, bad, b)


def test_learns_the_payload_effect(trained: tuple[TrainedScorer, Any]) -> None:
    loaded = roundtrip(trained[0])
    subjects = [good for good, _ in PAIRS]
    vip = loaded.predict(subjects, [{"segment": "vip", "list_size": 5000}] * len(subjects))
    regular = loaded.predict(subjects, [{"segment": "regular", "list_size": 5000}] * len(subjects))
    assert all(v > r + 0.015 for v, r in zip(vip, regular, strict=True)), (vip, regular)


def test_loaded_scorer_predicts_as_trained(
    trained: tuple[TrainedScorer, Any], examples: list[OutcomeExample]
) -> None:
    import lightgbm as lgb

    from ml.scorer import feature_matrix

    scorer = trained[0]
    sample = examples[:200]
    contents = [e.content for e in sample]
    payloads: list[dict[str, Any]] = [e.payload for e in sample]
    direct = lgb.Booster(model_str=scorer.model_text).predict(
        feature_matrix(scorer.spec, contents, payloads, scorer.n_hash)
    )
    loaded = roundtrip(scorer)
    assert loaded.predict(contents, payloads) == pytest.approx(list(direct), abs=1e-12)
    # Safe from several threads at once (asyncio.to_thread), and order-independent.
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: loaded.predict(contents, payloads), range(8)))
    assert all(r == results[0] for r in results)
    assert loaded.predict([], []) == []
    # Unknown segments and missing fields still score.
    assert len(loaded.predict(["Hello"], [{"segment": "unheard-of"}])) == 1


def test_deterministic(examples: list[OutcomeExample]) -> None:
    subset = examples[:400]
    a = train_scorer(subset, seed=11)
    b = train_scorer(list(subset), seed=11)
    assert a.model_text == b.model_text
    assert a.metrics == b.metrics


def test_progress_ends_at_one(trained: tuple[TrainedScorer, Any]) -> None:
    _, calls = trained
    fractions = [f for f, _ in calls]
    assert fractions[0] == 0.0
    assert fractions[-1] == 1.0
    assert fractions == sorted(fractions)
    assert "R\u00b2" in calls[-1][1]


def test_insufficient_outcomes() -> None:
    with pytest.raises(InsufficientOutcomes, match="at least 30"):
        train_scorer(generate(12, seed=1))
    # Values that are not numbers do not count.
    few = generate(40, seed=2)
    for e in few[:15]:
        e.value = float("nan")
    with pytest.raises(InsufficientOutcomes, match="without a numeric value"):
        train_scorer(few)
    same = generate(40, seed=2)
    for e in same:
        e.value = 0.25
    with pytest.raises(InsufficientOutcomes, match="differ"):
        train_scorer(same)


def test_small_data_and_no_payload_fields_still_train() -> None:
    examples = generate(60, seed=5)
    for e in examples:
        e.payload = {}
    scorer = train_scorer(examples)
    assert scorer.spec.features == []
    assert scorer.metrics.holdout_size == 12
    assert all(np.isfinite([scorer.metrics.r2, scorer.metrics.mean_absolute_error]))
    assert len(roundtrip(scorer).predict(["Your 3 deals"], [{}])) == 1


def test_load_rejects_a_mismatched_n_hash(trained: tuple[TrainedScorer, Any]) -> None:
    scorer = trained[0]
    with pytest.raises(ValueError, match="features"):
        LoadedScorer.load(scorer.spec.to_json(), scorer.model_text, scorer.n_hash // 2)


def test_text_features() -> None:
    texts = ["Your 3 NEW deals!! \U0001f389", "we're here? i think so", ""]
    X = text_features(texts, n_hash=64)
    assert X.shape == (3, n_columns(64)) == (3, len(TEXT_FEATURE_NAMES) + 128)
    hand = dict(zip(TEXT_FEATURE_NAMES, hand_features(texts[0]), strict=True))
    assert hand == {
        "chars": len(texts[0]),
        "words": 4,
        "digits": 1,
        "upper_share": 4 / 12,
        "caps_words": 1,
        "exclamations": 2,
        "questions": 0,
        "second_person": 1,
        "first_person": 0,
        "has_number": 1,
        "emoji": 1,
    }
    second = dict(zip(TEXT_FEATURE_NAMES, hand_features(texts[1]), strict=True))
    assert second["first_person"] == 2 and second["questions"] == 1
    assert second["caps_words"] == 0 and second["upper_share"] == 0.0
    assert np.all(X[2].toarray() == 0)
    # Deterministic, and a row does not depend on its neighbours.
    again = text_features(texts[:1], n_hash=64)
    assert (again != X[0]).nnz == 0
    assert X[0, len(TEXT_FEATURE_NAMES) :].sum() > 0  # hashed n-grams present


def test_runs_quickly(examples: list[OutcomeExample]) -> None:
    start = time.perf_counter()
    train_scorer(examples[:600])
    assert time.perf_counter() - start < 5.0
