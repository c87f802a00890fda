"""A text field's linear model (ml.text_model), fitted out of fold into the training rows
(ml.text_stacking): stored as plain JSON, scored from it exactly as trained, and never
fitted on a label it scores."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from ml.classifier import stored_and_loaded, train_classifier
from ml.moderation_world import REMOVE, generate_moderation_world
from ml.text_columns import score_signs, strongest_phrases, text_width
from ml.text_model import MIN_DF, GramIndex, TextModel, presence
from ml.text_stacking import TextValues, fit_text_field
from ml.training_data import TrainingExample, TrainingSet, prepare

START = datetime(2026, 1, 1, tzinfo=UTC)


def create_posts(n: int, seed: int) -> tuple[list[str], np.ndarray]:
    posts = generate_moderation_world(n, seed)
    labels = np.array([p.label == REMOVE for p in posts], dtype=np.int32)
    return [p.payload["text"] for p in posts], labels


def create_examples(texts: list[str], labels: np.ndarray) -> list[TrainingExample]:
    return [
        TrainingExample(
            payload={"text": text, "links": i % 3},
            label="remove" if label else "keep",
            decided_at=START + timedelta(minutes=i),
            proposed_action="keep",
        )
        for i, (text, label) in enumerate(zip(texts, labels.tolist(), strict=True))
    ]


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """The chance a positive outscores a negative (ties count half)."""
    pos, neg = scores[labels == 1], scores[labels == 0]
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(wins / (len(pos) * len(neg)))


def test_the_vocabulary_keeps_ngrams_of_two_rows_and_both_paths_agree() -> None:
    texts = ["double your bitcoin now", "double your eth", "my cat sat", "my cat ran"]
    index = GramIndex(texts)
    words, chars, kept = index.vocabulary(np.array([1, 1, 1, 1]))
    assert words == ["cat", "double", "double your", "my", "my cat", "your"]
    assert MIN_DF == 2 and "bitcoin" not in words  # in one row only
    assert " ca" in chars and "t s" not in chars  # character n-grams stay within words
    # A text occurring twice is in two rows: its n-grams count twice.
    words_twice, _, _ = index.vocabulary(np.array([2, 0, 0, 0]))
    assert "bitcoin" in words_twice and "cat" not in words_twice
    word_index = {g: i for i, g in enumerate(words)}
    char_index = {g: len(words) + i for i, g in enumerate(chars)}
    from_texts = presence(texts, word_index, char_index, len(kept)).toarray()
    np.testing.assert_array_equal(index.presence(kept).toarray(), from_texts)
    np.testing.assert_allclose(np.linalg.norm(from_texts, axis=1), 1.0)


def test_the_stored_model_scores_what_the_fitted_one_did() -> None:
    texts, labels = create_posts(1200, seed=3)
    fitted = fit_text_field(TextValues(texts, np.arange(len(texts))), labels, 960)
    assert fitted is not None
    scores, evaluated, served = fitted
    assert scores.shape == (1200, 1) and evaluated.width == served.width == 1
    # The holdout rows were scored by the evaluated model as it was fitted; the model
    # rebuilt from its JSON scores the same texts to the bit.
    stored = TextModel.from_json(json.loads(json.dumps(evaluated.to_json())))
    assert stored == evaluated
    np.testing.assert_array_equal(stored.scores(texts[960:]), scores[960:])
    assert stored.scores([""])[0, 0] == evaluated.intercepts[0]
    # PostgreSQL's JSONB keeps no key order: the scores do not depend on it.
    data = evaluated.to_json()
    shuffled = {k: dict(reversed(list(data[k].items()))) for k in ("words", "chars")}
    reordered = TextModel.from_json({**data, **shuffled})
    np.testing.assert_array_equal(reordered.scores(texts[960:]), scores[960:])
    # The served model learnt from every row: more n-grams, other weights.
    assert len(served.words) + len(served.chars) > len(evaluated.words) + len(evaluated.chars)
    with pytest.raises(ValueError, match="do not fit"):
        TextModel.from_json({**evaluated.to_json(), "intercepts": [0.0, 1.0]})


def test_out_of_fold_scores_do_not_know_their_own_labels() -> None:
    texts, _ = create_posts(1000, seed=4)
    texts = [f"{t} code{i % 97}" for i, t in enumerate(texts)]  # ten rows a code
    noise = np.random.default_rng(4).integers(0, 2, len(texts)).astype(np.int32)
    fitted = fit_text_field(TextValues(texts, np.arange(len(texts))), noise, 1000)
    assert fitted is not None
    scores, evaluated, _ = fitted
    # Fitted on the labels, the model separates them (it memorised the noise); the
    # out-of-fold scores the trees learn from do not.
    assert auc(evaluated.scores(texts)[:, 0], noise) > 0.65  # measured 0.68
    assert auc(scores[:, 0], noise) < 0.56  # measured 0.50


def test_the_evaluated_model_sees_no_holdout_label() -> None:
    texts, labels = create_posts(600, seed=5)
    flipped = labels.copy()
    flipped[480:] = 1 - flipped[480:]
    first, second = (
        prepare(create_examples(texts, labels)),
        prepare(create_examples(texts, flipped)),
    )
    (text,) = [f for f in first.evaluated_spec.features if f.kind == "text"]
    assert text.text_model is not None
    assert second.evaluated_spec == first.evaluated_spec
    older = (first.train, first.calibration, first.validation)
    np.testing.assert_array_equal(
        first.evaluated_rows(*older).toarray(), second.evaluated_rows(*older).toarray()
    )
    np.testing.assert_array_equal(
        first.evaluated_rows(first.holdout).toarray(),
        second.evaluated_rows(second.holdout).toarray(),
    )
    # The served model learns from every label: its model differs.
    served = next(f for f in first.spec.features if f.kind == "text").text_model
    assert served != next(f for f in second.spec.features if f.kind == "text").text_model


def test_too_few_labels_of_a_class_leave_the_ngram_columns_only() -> None:
    texts, _ = create_posts(300, seed=6)
    labels = np.zeros(len(texts), dtype=np.int32)
    labels[::40] = 1  # 8 removals: too few for five folds
    data = prepare(create_examples(texts, labels))
    (text,) = [f for f in data.spec.features if f.kind == "text"]
    assert text.text_model is None and data.spec.to_json()["version"] == 2


def test_chunk_pushes_add_up_to_the_score_less_the_intercept() -> None:
    texts, labels = create_posts(800, seed=7)
    fitted = fit_text_field(TextValues(texts, np.arange(len(texts))), labels, 640)
    assert fitted is not None
    model = fitted[1]
    text = "Nice day. dm me on telegram, double your btc now"
    chunks, pushes = model.chunk_pushes(text, 0)
    assert chunks == text.split()
    assert pushes.sum() == pytest.approx(model.scores([text])[0, 0] - model.intercepts[0])
    strongest = chunks[int(np.argmax(pushes))]
    assert strongest.strip(",.") in {"dm", "me", "on", "telegram", "double", "your", "btc"}


def test_a_score_is_explained_by_the_words_that_moved_it() -> None:
    model = TextModel(
        words={"telegram": [2.0], "dm": [1.5], "cat": [-1.0]}, chars={}, intercepts=[-1.0]
    )
    text = "my cat. dm me on telegram"
    hashed = text_width(64)
    only_the_score = np.zeros(hashed + 1)
    only_the_score[hashed] = 0.8  # the score alone pushed, towards class 1 ("remove")
    assert strongest_phrases(text, only_the_score, 64, model, score_signs(2, 1)) == [
        "telegram",
        "dm",
    ]
    # Explaining class 0 ("keep"), which the score pushed towards: the benign word.
    assert strongest_phrases(text, only_the_score, 64, model, score_signs(2, 0)) == ["cat"]
    assert score_signs(3, 1) == [-1.0, 1.0, -1.0]


def test_three_classes_get_a_score_each_and_are_explained_by_their_words() -> None:
    posts = generate_moderation_world(1200, seed=9)
    examples = [
        TrainingExample(
            payload=p.payload,
            label="escalate" if p.concern == "login" else p.label,
            decided_at=p.created_at,
            proposed_action=p.upstream_action,
        )
        for p in posts
    ]
    trained = train_classifier(examples, seed=9, num_threads=1)
    text = trained.spec.features[trained.spec.names.index("text")]
    assert trained.classes == ["escalate", "keep", "remove"]
    assert text.text_model is not None and text.text_model.width == 3
    login = "Hi all. your wallet will be locked, verify it here"
    (prediction,) = stored_and_loaded(trained).predict([{**posts[0].payload, "text": login}])
    assert prediction.action == "escalate"
    explained = {name: value for name, value, _ in prediction.contributions}["text"]
    assert "verify" in explained or "locked" in explained or "wallet" in explained


def test_a_training_set_in_any_order_fits_the_same_text_model() -> None:
    texts, labels = create_posts(500, seed=10)
    examples = create_examples(texts, labels)
    in_order = prepare(examples)
    shuffled = TrainingSet()
    order = np.random.default_rng(10).permutation(len(examples))
    for start in range(0, len(examples), 90):
        shuffled.add([examples[int(i)] for i in order[start : start + 90]])
    again = prepare(shuffled)
    assert next(f for f in in_order.spec.features if f.kind == "text").text_model is not None
    assert again.spec == in_order.spec and again.evaluated_spec == in_order.evaluated_spec
    np.testing.assert_array_equal(again.X.toarray(), in_order.X.toarray())
