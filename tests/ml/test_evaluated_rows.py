"""The served model's spec comes from every label, the evaluated model's from the labels
before the holdout; one featurising pass gives both matrices (ml.evaluated_rows), exactly
as encoding each model's rows by its own spec would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from ml.evaluated_rows import EvaluatedView
from ml.features import build_spec, encode
from ml.training_data import TrainingExample, TrainingSet, prepare

N, OLDER = 500, 400  # the newest 100 are the holdout
START = datetime(2026, 1, 1, tzinfo=UTC)
WORDS = [
    "refund",
    "account",
    "login",
    "password",
    "urgent",
    "verify",
    "prize",
    "bitcoin",
    "wallet",
    "offer",
]


def _payload(i: int, text: bool) -> dict[str, Any]:
    rng = np.random.default_rng(i)
    newer = i >= OLDER
    payload: dict[str, Any] = {
        "amount": float(rng.normal(100, 30)),
        "verified": bool(i % 3),
        # Only in the holdout: a category, and a category reordering the others' counts.
        "channel": "kiosk" if newer and i % 2 else ["web", "phone", "store"][i % 3],
        # Mostly numbers before the holdout, strings in it: the kind changes with it.
        "score": f"s{i % 4}" if newer or i % 20 >= 11 else int(rng.integers(0, 9)),
        # 101 categories before the holdout; 5 new ones in it push some out of the top 100.
        "many": f"d{i % 5}" if newer else f"c{i % 101:03d}",
    }
    if i < OLDER and i % 100 == 0:
        payload["rare"] = "yes"  # in 1% of the older rows, fewer of all of them
    if text and newer:
        payload["note"] = " ".join(rng.choice(WORDS, size=6)) + f" case {i}"
    return payload


def _examples(text: bool) -> list[TrainingExample]:
    return [
        TrainingExample(
            payload=_payload(i, text),
            label="reject" if i % 4 == 0 else "approve",
            decided_at=START + timedelta(minutes=i),
            proposed_action="approve",
        )
        for i in range(N)
    ]


def _dense(matrix: Any) -> np.ndarray:
    return matrix.toarray() if sp.issparse(matrix) else np.asarray(matrix)


@pytest.mark.parametrize("text", [False, True], ids=["dense", "text"])
@pytest.mark.parametrize("shuffled", [False, True], ids=["in order", "shuffled set"])
def test_both_specs_and_their_rows_from_one_pass(text: bool, shuffled: bool) -> None:
    examples = _examples(text)
    source: list[TrainingExample] | TrainingSet = examples
    if shuffled:
        order = np.random.default_rng(3).permutation(N)
        source = TrainingSet()
        for start in range(0, N, 97):
            source.add([examples[int(i)] for i in order[start : start + 97]])
    data = prepare(source)
    payloads = [e.payload for e in examples]
    served, evaluated = build_spec(payloads), build_spec(payloads[:OLDER])
    assert data.holdout == slice(OLDER, N)
    assert data.spec == served and data.evaluated_spec == evaluated
    kinds = {f.name: f.kind for f in served.features}
    old_kinds = {f.name: f.kind for f in evaluated.features}
    assert kinds["score"] == "categorical" and old_kinds["score"] == "numeric"
    assert "rare" in old_kinds and "rare" not in kinds
    assert ("note" in kinds) == text and "note" not in old_kinds
    channel = dict(zip(served.names, served.features, strict=True))["channel"]
    assert "kiosk" in channel.categories
    assert "kiosk" not in evaluated.features[evaluated.names.index("channel")].categories
    # What is encoded apart: the kind that changed, the categories cut at 100, the field
    # too rare overall; the channel is the served column with its codes mapped.
    view = EvaluatedView(served, evaluated)
    assert view.extra_spec.names == ["many", "rare", "score"]

    served_X = encode(served, payloads)
    np.testing.assert_array_equal(_dense(data.X), served_X)
    older = data.evaluated_rows(data.train, data.calibration, data.validation)
    assert sp.issparse(older) == evaluated.has_text
    assert older.flags.c_contiguous
    np.testing.assert_array_equal(_dense(older), encode(evaluated, payloads[:OLDER]))
    held = data.evaluated_rows(data.holdout)
    np.testing.assert_array_equal(_dense(held), encode(evaluated, payloads[OLDER:]))
    with pytest.raises(ValueError, match="consecutive"):
        data.evaluated_rows(data.train, data.validation)


def test_the_same_spec_gives_the_served_rows() -> None:
    examples = _examples(False)
    for e in examples:
        e.payload = {"amount": e.payload["amount"], "verified": e.payload["verified"]}
    data = prepare(examples)
    assert data.spec == data.evaluated_spec and data.extra_parts is None
    assert data.evaluated_rows(data.holdout) is data.rows(data.holdout)
    np.testing.assert_array_equal(
        data.evaluated_rows(data.train, data.calibration, data.validation),
        data.X[: data.holdout.start],
    )


def test_a_spec_that_needs_rows_encoded_apart_refuses_without_them() -> None:
    payloads = [_payload(i, False) for i in range(N)]
    view = EvaluatedView(build_spec(payloads), build_spec(payloads[:OLDER]))
    with pytest.raises(ValueError, match="encoded apart"):
        view.rows([encode(view.served, payloads)], None)
