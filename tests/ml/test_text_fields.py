"""Free-text payload fields: recognised, hashed into n-gram columns the same way on the
training and scoring paths, stored with the model, and explained by their words."""

from __future__ import annotations

import json
import random

import lightgbm as lgb
import numpy as np
import pytest
import scipy.sparse as sp

from ml import text_columns
from ml.classifier import (
    LoadedClassifier,
    TrainedClassifier,
    TrainingExample,
    stored_and_loaded,
    train_classifier,
)
from ml.column_builder import ColumnBuilder
from ml.features import FeatureSpec, build_spec, encode
from ml.moderation_world import REMOVE, generate_moderation_world
from ml.text_features import chunk_columns, text_features

WORDS = [
    "the",
    "a",
    "cat",
    "sat",
    "on",
    "mat",
    "dog",
    "ran",
    "far",
    "away",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "lazy",
]


def payloads(n: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        note = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 12)))
        out.append(
            {
                "note": note if i % 10 else None,  # some missing
                "status": rng.choice(["open", "closed", "pending"]),
                "id": f"ord-{i:08d}-{rng.randrange(1 << 30):09d}",  # long, distinct, one word
                "title": rng.choice(["a long repeated title of a product", "another one"]),
                "n": i,
            }
        )
    return out


def test_long_mostly_distinct_strings_are_text_short_or_repeated_ones_categorical() -> None:
    spec = build_spec(payloads(300))
    kinds = {f.name: f.kind for f in spec.features}
    assert kinds == {
        "id": "categorical",
        "n": "numeric",
        "note": "text",
        "status": "categorical",
        "title": "categorical",
    }
    note = spec.features[spec.names.index("note")]
    assert note.n_hash == text_columns.TEXT_N_HASH
    assert build_spec(payloads(300), text=False).features[spec.names.index("note")].kind == (
        "categorical"
    )
    # Too few values to call it text: stays categorical.
    assert {f.name: f.kind for f in build_spec(payloads(15)).features}["note"] == "categorical"


def test_text_columns_come_after_the_others_and_both_paths_agree() -> None:
    rows = payloads(2500, seed=1)
    spec = build_spec(rows[:2000])
    ranges = dict(zip(spec.names, spec.column_ranges(), strict=True))
    width = text_columns.text_width(text_columns.TEXT_N_HASH)
    assert ranges["note"] == (4, 4 + width) and spec.width == 4 + width
    assert spec.categorical_indices == [ranges["id"][0], ranges["status"][0], ranges["title"][0]]
    X = encode(spec, rows)
    note = [r["note"] for r in rows]
    expected = text_features([t or "" for t in note], text_columns.TEXT_N_HASH).toarray()
    np.testing.assert_array_equal(X[:, 4:], expected)
    assert not X[10, 4:].any()  # a missing text is empty

    builder = ColumnBuilder()
    for start in range(0, len(rows), 700):
        builder.add(rows[start : start + 700])
    assert builder.spec(2000).to_json() == spec.to_json()
    parts = builder.encode_parts(spec, [0, 1000, 2500])
    np.testing.assert_array_equal(sp.vstack(parts).toarray(), X)


def test_spec_with_text_is_version_2_and_old_specs_still_load_and_score() -> None:
    spec = build_spec(payloads(300))
    stored = json.loads(json.dumps(spec.to_json()))
    assert stored["version"] == 2
    assert FeatureSpec.from_json(stored).to_json() == stored
    without = build_spec(payloads(300), text=False)
    assert without.to_json()["version"] == 1  # as written before text fields

    # A model stored before this change: version 1 spec, one column per feature.
    old_spec = {
        "version": 1,
        "features": [
            {"name": "n", "kind": "numeric", "categories": []},
            {"name": "status", "kind": "categorical", "categories": ["open", "closed"]},
        ],
    }
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(size=400), rng.integers(0, 2, 400).astype(float)])
    y = (X[:, 0] + X[:, 1] > 0.5).astype(int)
    booster = lgb.train(
        {"objective": "binary", "verbosity": -1, "min_data_per_group": 5},
        lgb.Dataset(X, label=y, categorical_feature=[1]),
        num_boost_round=20,
    )
    loaded = LoadedClassifier.load(
        old_spec, ["no", "yes"], booster.model_to_string(), {"method": "identity"}
    )
    (hit,) = loaded.predict([{"n": 2.0, "status": "closed"}])
    assert hit.action == "yes"
    assert {name for name, _, _ in hit.contributions} <= {"n", "status"}


def test_chunk_columns_account_for_every_hashed_count() -> None:
    text = "Double your b1tcoin!! now,  send BTC today"
    chunks, columns = chunk_columns(text, 64)
    assert chunks == ["Double", "your", "b1tcoin!!", "now,", "send", "BTC", "today"]
    row = text_features([text], 64).toarray()[0]
    credited: dict[int, float] = {}
    for per_chunk in columns:
        for column, credit in per_chunk.items():
            credited[column] = credited.get(column, 0.0) + credit
    hashed = {int(j): float(row[j]) for j in np.flatnonzero(row) if j >= 11}
    assert credited == hashed


def test_strongest_phrases_are_runs_of_the_words_that_pushed() -> None:
    text = "nice day. double your bitcoin now, see you"
    _, columns = chunk_columns(text, 64)
    contributions = np.zeros(text_columns.text_width(64))
    for k in (2, 3, 4):  # "double your bitcoin" pushes; the rest a little the other way
        for column in columns[k]:
            contributions[column] += 1.0
    for column in columns[0]:
        contributions[column] -= 0.2
    assert text_columns.strongest_phrases(text, contributions, 64) == ["double your bitcoin"]
    assert text_columns.describe(["double your bitcoin", "dm me"]) == (
        "'double your bitcoin', 'dm me'"
    )
    assert text_columns.strongest_phrases(text, np.zeros_like(contributions), 64) == []


@pytest.fixture(scope="module")
def trained_moderation() -> TrainedClassifier:
    posts = generate_moderation_world(3000, seed=5)
    return train_classifier(
        [TrainingExample(p.payload, p.label, p.created_at, p.upstream_action) for p in posts]
    )


@pytest.fixture(scope="module")
def moderation(trained_moderation: TrainedClassifier) -> tuple[LoadedClassifier, list]:
    trained = trained_moderation
    assert "text" in trained.used_features
    assert trained.spec.features[trained.spec.names.index("text")].kind == "text"
    loaded = stored_and_loaded(trained)
    return loaded, generate_moderation_world(400, seed=6)


def test_the_stored_text_model_predicts_what_the_trained_one_does(
    trained_moderation: TrainedClassifier,
) -> None:
    trained = trained_moderation
    text = trained.spec.features[trained.spec.names.index("text")]
    assert text.text_model is not None and text.width == text_columns.text_width(text.n_hash) + 1
    stored = json.loads(json.dumps(trained.spec.to_json()))
    assert (
        stored["version"] == 3 and "linear" in stored["features"][trained.spec.names.index("text")]
    )
    in_memory = LoadedClassifier(
        trained.spec,
        trained.classes,
        lgb.Booster(model_str=trained.model_text),
        trained.calibration,
    )
    fresh = [p.payload for p in generate_moderation_world(300, seed=8)]
    expected = in_memory.predict(fresh)
    got = stored_and_loaded(trained).predict(fresh)
    assert [p.probabilities for p in got] == [p.probabilities for p in expected]
    assert [p.contributions for p in got] == [p.contributions for p in expected]
    # The text model's score is the last column of the field's block, and the trees use it.
    _, stop = trained.spec.column_ranges()[trained.spec.names.index("text")]
    booster = lgb.Booster(model_str=trained.model_text)
    assert booster.feature_importance("split")[stop - 1] > 0


def test_a_removed_scam_is_explained_by_its_words(moderation: tuple) -> None:
    classifier, fresh = moderation
    scams = [p for p in fresh if p.concern in ("money", "prize", "login")]
    predictions = classifier.predict([p.payload for p in scams])
    explained = 0
    for post, prediction in zip(scams, predictions, strict=True):
        if prediction.action != REMOVE:
            continue
        text = {name: (value, c) for name, value, c in prediction.contributions}.get("text")
        assert text is not None and text[1] > 0
        value = text[0]
        assert value.startswith("'") and value.endswith("'")
        phrases = [p.strip("'") for p in value.split("', '")]
        assert all(p.lower() in post.payload["text"].lower() for p in phrases)
        explained += 1
    assert explained >= len(scams) * 0.8
