"""Ranked suggestions and phrase labels of themes (ml.themes.suggestions, labelling,
pointers) on the generated loan worlds of ml.worlds, whose upstream proposals ignore one
planted concern ("young healthcare companies": industry = healthcare and
company_age_years < 2)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import numpy as np
import pytest

from domain.learning import SuggestedFeature, ThemeSummary
from ml.themes import OverrideSample, Theme, mine_themes
from ml.themes.pointers import read_reason
from ml.worlds import RULES, generate_world

MODEL = {"revenue", "debt_ratio", "has_collateral", "loan.amount"}  # lacks the planted fields


def _window(rule: str) -> tuple[list[OverrideSample], list[dict[str, Any]], list[str], list[Any]]:
    cases = generate_world(3000, 5, rule)
    overridden = [c for c in cases if c.reason is not None]
    overrides = [
        OverrideSample(c.reason or "", c.upstream_action, c.true_action, c.payload)
        for c in overridden
    ]
    decided = [c for c in cases if c.reason is None]
    return overrides, [c.payload for c in decided], [c.upstream_action for c in decided], overridden


@pytest.fixture(scope="module", params=list(RULES))
def world(request: pytest.FixtureRequest) -> tuple[str, list[Theme], list[Any]]:
    rule = request.param
    overrides, others, proposals, cases = _window(rule)
    themes = mine_themes(overrides, others, None, other_proposals=proposals)
    return rule, themes, cases


@pytest.fixture(scope="module")
def healthcare() -> tuple[list[OverrideSample], list[dict[str, Any]], list[str], list[Any]]:
    return _window("young_healthcare")


def _planted_share(theme: Theme, cases: list[Any], rule: str) -> float:
    return sum(cases[i].concern == rule for i in theme.members) / theme.count


def test_the_top_theme_of_the_planted_concern_suggests_the_planted_field(healthcare):
    overrides, others, proposals, cases = healthcare
    for features in (MODEL, None):
        themes = mine_themes(overrides, others, features, other_proposals=proposals)
        top = themes[0]
        assert _planted_share(top, cases, "young_healthcare") >= 0.9
        assert top.suggested_feature == "company_age_years"
        first = top.suggested_features[0]
        assert first.field == "company_age_years" and not first.used_by_model
        assert first.evidence.startswith("company_age_years < 2 holds for ")
        assert "words: " in first.evidence


def test_a_numeric_threshold_outranks_a_category_that_only_narrows_the_theme(healthcare):
    overrides, others, _, _ = healthcare
    top = mine_themes(overrides, others, MODEL)[0]
    assert {"industry = healthcare", "company_age_years < 2"} <= set(top.conditions)
    fields = [s.field for s in top.suggested_features]
    assert fields.index("company_age_years") < fields.index("industry")
    age, industry = (
        top.suggested_features[fields.index(f)] for f in ("company_age_years", "industry")
    )
    assert age.score > industry.score
    # the words point at the age (young, new, years, founded ...), rarely at the industry
    assert any(w in age.evidence for w in ("young", "new", "founded", "years"))


def test_suggestions_are_ranked_scored_and_follow_the_active_model(healthcare):
    overrides, others, _, _ = healthcare
    top = mine_themes(overrides, others, MODEL | {"company_age_years"})[0]
    ranked = top.suggested_features
    assert [s.score for s in ranked] == sorted((s.score for s in ranked), reverse=True)
    assert all(0.0 <= s.score <= 1.0 for s in ranked)
    used = {s.field: s.used_by_model for s in ranked}
    assert used["company_age_years"] is True and used["industry"] is False
    assert top.suggested_feature == "industry"  # the first one the model does not use
    everything = mine_themes(overrides, others, {"company_age_years", "industry=healthcare"})[0]
    unused = [s.field for s in everything.suggested_features if not s.used_by_model]
    assert everything.suggested_feature == (unused[0] if unused else None)
    assert everything.suggested_feature not in {"company_age_years", "industry"}


def test_without_a_model_the_proposals_tell_which_fields_they_use():
    # the upstream proposals decline on debt_ratio > 0.9: they use debt_ratio, not industry
    overrides, others, proposals, cases = _window("high_debt_retail")
    top = mine_themes(overrides, others, None, other_proposals=proposals)[0]
    assert _planted_share(top, cases, "high_debt_retail") >= 0.9
    by_field = {s.field: s for s in top.suggested_features}
    assert by_field["debt_ratio"].used_by_model is True
    assert "the proposals depend on it" in by_field["debt_ratio"].evidence
    assert by_field["industry"].used_by_model is False
    assert "the proposals ignore it" in by_field["industry"].evidence
    assert top.suggested_feature == "industry"
    # without the contrast's proposals nothing can be judged used: the first ranked
    blind = mine_themes(overrides, others, None)[0]
    assert not any(s.used_by_model for s in blind.suggested_features)
    assert blind.suggested_feature == blind.suggested_features[0].field == "debt_ratio"


def test_other_proposals_must_match_the_others():
    overrides, others, proposals, _ = _window("young_healthcare")
    with pytest.raises(ValueError, match="proposals"):
        mine_themes(overrides, others, None, other_proposals=proposals[:-1])


def test_labels_read_as_phrases_naming_the_concern(world):
    rule, themes, cases = world
    top = themes[0]
    assert _planted_share(top, cases, rule) >= 0.9
    assert "," not in top.label
    assert len(top.label.split()) <= 6
    value = {"young_healthcare": "healthcare", "high_debt_retail": "retail"}.get(
        rule, "international"
    )
    assert value in top.label.split()  # the category of its condition, as a word
    if rule == "young_healthcare":  # "< 2" as the adjective the reasons use
        assert top.label.split()[0] in {"young", "new", "recent", "early"}
        assert top.label.endswith("companies")
    if rule == "high_debt_retail":
        assert top.label.endswith("high debt ratio")
    if rule == "foreign_unverified":
        assert "unverified" in top.label.split()
    for t in themes:
        assert t.label and "," not in t.label
        if not t.conditions:  # a reason as people wrote it, without its lead
            assert any(t.label in (o.reason or "") for o in (cases[i] for i in t.members))


def test_reasons_quote_numbers_with_the_word_before_them():
    assert read_reason("founded 1.2 years ago").numbers == ((1.2, "founded"),)
    assert read_reason("under two years old").numbers == ((2.0, "under"),)
    assert read_reason("Revenue 150,000 only").numbers == ((150000.0, "revenue"),)
    assert read_reason("debt is 87% of assets").numbers == ((87.0, "debt"),)
    assert read_reason("version 1.2.3").numbers == ()
    assert read_reason("").numbers == () and read_reason("").words == ()


def test_old_stored_reports_without_suggestions_still_read():
    old = {
        "label": "young, years, history", "keywords": ["young"], "count": 3, "share": 0.5,
        "proposed_action": "approve", "share_of_action_overrides": 0.75,
        "conditions": ["company_age_years < 2"], "suggested_feature": "company_age_years",
        "examples": ["too young"], "retired_key": "ignored",
    }  # fmt: skip
    summary = ThemeSummary.from_json(old)
    assert summary.suggested_features == []
    assert summary.suggested_feature == "company_age_years"
    ranked = [SuggestedFeature("company_age_years", 0.8, "company_age_years < 2 ...", False)]
    new = ThemeSummary(**{**summary.__dict__, "suggested_features": ranked})
    assert ThemeSummary.from_json(asdict(new)) == new


def test_mining_is_still_deterministic(healthcare):
    overrides, others, proposals, _ = healthcare
    a = mine_themes(overrides, others, None, other_proposals=proposals, seed=3)
    b = mine_themes(overrides, others, None, other_proposals=proposals, seed=3)
    assert a == b
    assert np.isfinite([s.score for t in a for s in t.suggested_features]).all()
