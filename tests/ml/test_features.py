"""Payloads to features: flattening, spec inference, encoding (pure, no database)."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest

from ml import column_builder, features
from ml.features import (
    FeatureInfo,
    FeatureSpec,
    build_spec,
    encode,
    flatten,
    flatten_columns,
)
from ml.worlds import generate_world


def by_name(spec: FeatureSpec) -> dict[str, FeatureInfo]:
    return {f.name: f for f in spec.features}


def test_flatten_nests_with_dots_records_list_lengths_and_drops_none() -> None:
    payload: dict[Any, Any] = {
        "industry": "retail",
        "company": {"age": 3.5, "owner": {"age": 40, "name": None}, "empty": {}},
        "tags": ["a", "b", "c"],
        "history": (),
        "missing": None,
        "flag": False,
        7: "seven",
    }
    assert flatten(payload) == {
        "industry": "retail",
        "company.age": 3.5,
        "company.owner.age": 40,
        "tags.length": 3,
        "history.length": 0,
        "flag": False,
        "7": "seven",
    }


def test_flatten_columns_agree_with_flatten_across_chunks() -> None:
    payloads = [c.payload for c in generate_world(features.CHUNK * 2 + 17, seed=3)]
    # Fields that appear only in some chunks, change type, or nest irregularly.
    payloads[5]["late"] = {"x": 1}
    payloads[-1]["late"] = {"x": 2, "y": [1, 2]}
    payloads[features.CHUNK + 3]["mixed"] = "text"
    payloads[features.CHUNK + 4]["mixed"] = {"inner": True}
    payloads[features.CHUNK + 5]["mixed"] = [1, 2, 3]
    payloads[7]["owner"] = None
    payloads[8]["loan"] = "not an object"

    columns = flatten_columns(payloads)
    rows = [flatten(p) for p in payloads]
    names = set().union(*rows)
    assert set(columns.values) == names
    assert columns.n_rows == len(payloads)
    for name in names:
        assert columns.values[name] == [row.get(name) for row in rows], name
        assert set(map(type, columns.values[name])) <= columns.types[name]


def test_spec_kinds_bool_before_int_and_ints_are_numeric() -> None:
    payloads = [
        {"flag": i % 2 == 0, "count": i, "ratio": i / 3, "kind": "ab"[i % 2]} for i in range(50)
    ]
    spec = build_spec(payloads)
    kinds = {f.name: f.kind for f in spec.features}
    assert kinds == {
        "count": "numeric",
        "flag": "boolean",
        "kind": "categorical",
        "ratio": "numeric",
    }
    assert spec.names == sorted(spec.names)


def test_spec_mixed_types_take_the_majority_and_the_rest_is_missing() -> None:
    payloads: list[dict[str, Any]] = [{"x": i} for i in range(70)]
    payloads += [{"x": f"s{i}"} for i in range(30)]
    payloads += [{"y": True} for _ in range(40)] + [{"y": 1} for _ in range(60)]
    spec = build_spec(payloads)
    assert by_name(spec)["x"].kind == "numeric"
    assert by_name(spec)["y"].kind == "numeric"  # 60 ints beat 40 bools
    X = encode(spec, [{"x": "s1", "y": True}, {"x": 5, "y": 2}])
    assert np.isnan(X[0]).all()  # a string in a numeric field, a bool in a numeric field
    assert X[1].tolist() == [5.0, 2.0]


def test_spec_drops_rare_fields_and_keeps_the_most_frequent_categories() -> None:
    cats = ["z"] * 200 + ["m"] * 100 + ["d"] * 50 + ["c"] * 50
    payloads = [{"common": 1.0, "cat": cat} for cat in cats]
    payloads[0]["rare"] = 1.0  # 1 of 400 payloads: under 1%
    payloads[1]["sometimes"] = 2.0
    payloads[2]["sometimes"] = 3.0
    payloads[3]["sometimes"] = 4.0
    payloads[4]["sometimes"] = 5.0  # 4 of 400: kept
    spec = build_spec(payloads, max_categories=3)
    assert spec.names == ["cat", "common", "sometimes"]
    # By frequency, ties alphabetically; "d" is dropped and will encode as missing.
    assert by_name(spec)["cat"].categories == ["z", "m", "c"]
    assert np.isnan(encode(spec, [{"cat": "d"}])[0, 0])


def test_encode_missing_unseen_and_wrong_kinds_are_nan() -> None:
    spec = FeatureSpec(
        [
            FeatureInfo("age", "numeric"),
            FeatureInfo("flag", "boolean"),
            FeatureInfo("industry", "categorical", ["retail", "healthcare"]),
            FeatureInfo("owner.age", "numeric"),
        ]
    )
    X = encode(
        spec,
        [
            {"age": 3, "flag": True, "industry": "healthcare", "owner": {"age": 50.5}},
            {"age": 2.5, "flag": False, "industry": "retail"},
            {"age": None, "flag": 1, "industry": "mining", "owner": None},
            {"age": True, "flag": "yes", "industry": 3, "owner": {"age": "old"}},
            {"age": math.inf, "flag": None, "industry": None, "owner": {"age": 10**400}},
            {},
        ],
    )
    assert X.dtype == np.float64
    assert X.shape == (6, 4)
    assert X[0].tolist() == [3.0, 1.0, 1.0, 50.5]
    assert X[1, :3].tolist() == [2.5, 0.0, 0.0]
    assert np.isnan(X[1, 3])
    assert np.isnan(X[2:]).all()


def test_encode_follows_the_spec_not_the_payload_key_order() -> None:
    payloads = [{"b": 1.0, "a": "x", "c": {"d": True}}, {"c": {"d": False}, "a": "y", "b": 2}]
    spec = build_spec(payloads)
    assert spec.names == ["a", "b", "c.d"]
    reordered = [dict(reversed(list(p.items()))) for p in payloads]
    np.testing.assert_array_equal(encode(spec, payloads), encode(spec, reordered))
    assert encode(spec, []).shape == (0, 3)


def test_spec_survives_json_and_encodes_identically() -> None:
    payloads = [c.payload for c in generate_world(500, seed=5)]
    spec = build_spec(payloads)
    again = FeatureSpec.from_json(json.loads(json.dumps(spec.to_json())))
    assert again == spec
    np.testing.assert_array_equal(encode(spec, payloads), encode(again, payloads))
    kinds = {f.name: f.kind for f in spec.features}
    assert kinds["industry"] == "categorical"
    assert kinds["has_collateral"] == "boolean"
    assert kinds["employees"] == "numeric"
    assert kinds["owner.age"] == "numeric"
    assert kinds["tags.length"] == "numeric"


def test_spec_from_json_rejects_unknown_kinds_versions_and_text_without_columns() -> None:
    with pytest.raises(ValueError, match="unknown feature kind"):
        FeatureSpec.from_json({"features": [{"name": "x", "kind": "image"}]})
    with pytest.raises(ValueError, match="no positive n_hash"):
        FeatureSpec.from_json({"version": 2, "features": [{"name": "x", "kind": "text"}]})
    with pytest.raises(ValueError, match="version 4"):
        FeatureSpec.from_json({"version": 4, "features": []})


# --------------------------------------------- the training path: ColumnBuilder, TrainingSet


def _hostile(payloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """World payloads with the odd values a decision log may hold: NaN and infinite
    numbers, ints too large for a float, values of the wrong kind, numpy scalars, str
    subclasses, fields that come and go, nested objects that turn into lists or strings."""

    class Tag(str):
        pass

    n = len(payloads)
    payloads[3]["debt_ratio"] = math.nan
    payloads[4]["employees"] = 10**400
    payloads[5]["debt_ratio"] = math.inf
    payloads[6]["industry"] = True
    payloads[7]["region"] = 3.5
    payloads[8]["has_collateral"] = "yes"
    payloads[9]["employees"] = np.int64(12)
    payloads[10]["company_age_years"] = np.float32(1.5)
    payloads[11]["identity_verified"] = np.bool_(True)
    payloads[12]["industry"] = Tag("retail")
    payloads[13]["owner"] = None
    payloads[14]["loan"] = "not an object"
    payloads[15]["tags"] = ("a", "b")
    payloads[16]["odd"] = object()
    payloads[n // 2]["late"] = {"x": 1}
    payloads[-1]["late"] = {"x": 2, "y": [1, 2]}
    for i in range(0, n, 7):
        payloads[i]["sparse"] = f"s{i % 5}"  # present in about 14% of the payloads
    for i in range(features.CHUNK + 5, features.CHUNK + 300):
        payloads[i]["mid"] = i % 3 == 0  # only in the second chunk
    for i in range(n):  # no gap in the first chunk, some in the next ones
        if i < features.CHUNK or i % 11:
            payloads[i]["steady"] = i % 4 == 0 if i > 2 * features.CHUNK else i
    return payloads


WORLD_CASES = [
    (3000, 1, "young_healthcare", False),
    (features.CHUNK * 3 + 11, 2, "high_debt_retail", True),
    (2500, 3, "foreign_unverified", False),
]


# One payload at a time only on the smaller worlds (slow; the other sizes cover the
# chunk edges of the big one).
BUILDER_CASES = [
    (*world, batch)
    for world in WORLD_CASES
    for batch in (1000, features.CHUNK, 1, None)
    if not (batch == 1 and world[0] > 3000)
]


@pytest.mark.parametrize(("n", "seed", "rule", "three", "batch"), BUILDER_CASES)
@pytest.mark.parametrize("merge_every", [2, column_builder._MERGE_EVERY])
def test_column_builder_encodes_exactly_as_flatten_and_encode_columns(
    n: int,
    seed: int,
    rule: str,
    three: bool,
    batch: int | None,
    merge_every: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The training path (ColumnBuilder, batches of any size) and the scoring path
    (flatten_columns + encode_columns) give the same spec and bit-identical matrices, so
    a model trained either way scores the same."""
    monkeypatch.setattr(column_builder, "_MERGE_EVERY", merge_every)  # merged pieces too
    payloads = _hostile([c.payload for c in generate_world(n, seed, rule, three_actions=three)])
    cut = int(n * 0.8)
    columns = flatten_columns(payloads)
    reference_spec = features.build_spec_from_columns(columns.head(cut))
    reference = features.encode_columns(reference_spec, columns)

    builder = column_builder.ColumnBuilder()
    step = batch or n
    for start in range(0, n, step):
        builder.add(payloads[start : start + step])
    assert builder.n_rows == n
    spec = builder.spec(cut)
    assert spec.to_json() == reference_spec.to_json()
    assert "sparse" in spec.names and "industry" in spec.names
    X = builder.encode(spec)
    assert X.dtype == reference.dtype and X.shape == reference.shape
    np.testing.assert_array_equal(X, reference)
    # A mask of rows gives the spec of those rows; encoding by another spec (a stored
    # one, e.g.) matches too, and release=True gives the same matrix.
    mask = np.zeros(n, dtype=bool)
    mask[::3] = True
    picked = [payloads[i] for i in np.flatnonzero(mask)]
    masked = builder.spec(mask, max_categories=2)
    assert masked.to_json() == build_spec(picked, max_categories=2).to_json()
    np.testing.assert_array_equal(builder.encode(masked, release=True), encode(masked, payloads))


def test_training_set_in_any_order_prepares_what_the_examples_do() -> None:
    from ml.classifier import TrainingSet, prepare
    from ml.worlds import training_examples

    examples = training_examples(generate_world(5000, seed=4))
    expected = prepare(examples)
    # Reference: the whole-column path on the time-ordered payloads.
    payloads = [e.payload for e in examples]
    columns = flatten_columns(payloads)
    spec = features.build_spec_from_columns(columns)  # the served model's: every label
    assert spec.to_json() == expected.spec.to_json()
    np.testing.assert_array_equal(expected.X, features.encode_columns(spec, columns))
    older = columns.head(expected.holdout.start)  # the evaluated model's: before the holdout
    evaluated = features.build_spec_from_columns(older)
    assert evaluated.to_json() == expected.evaluated_spec.to_json()
    np.testing.assert_array_equal(
        expected.evaluated_rows(*expected.slices[:3]), features.encode_columns(evaluated, older)
    )

    shuffled = list(examples)
    rng = np.random.default_rng(0)
    rng.shuffle(shuffled)  # type: ignore[arg-type]
    training = TrainingSet()
    for start in range(0, len(shuffled), 777):
        training.add(shuffled[start : start + 777])
    again = prepare(training)
    assert again.spec.to_json() == expected.spec.to_json()
    assert again.evaluated_spec.to_json() == expected.evaluated_spec.to_json()
    np.testing.assert_array_equal(again.X, expected.X)
    np.testing.assert_array_equal(again.y, expected.y)
    assert again.proposed == expected.proposed
    assert (again.train, again.holdout) == (expected.train, expected.holdout)
    for part in expected.slices:  # what LightGBM gets: each slice, column-major
        rows = expected.rows(part)
        assert rows.flags.f_contiguous
        np.testing.assert_array_equal(rows, expected.X[part])
        np.testing.assert_array_equal(again.rows(part), rows)
