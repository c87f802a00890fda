"""Theme mining (ml.themes) on small generated worlds with planted concerns.

The generator here is this file's own: each world plants a few concerns, each
tied to payload conditions and phrased many ways (some phrasings share no
word), a concern whose payloads are random (it must get no condition), and
~13% unrelated one-off reasons. Pure and fast: no database, no network.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from ml.text import normalise, tokens
from ml.themes import OverrideSample, Theme, ThemeSettings, flatten, mine_themes

INDUSTRIES = ("healthcare", "retail", "software", "manufacturing", "logistics", "hospitality")
FOREIGN = ("CA", "MX", "DE", "IN", "BR", "NG", "FR")
NAMES = ("Acme", "Birch & Co", "Cobalt", "Delta Care", "Evergreen", "Fulton", "Granite", "Harbor")
PREFIXES = ("", "", "", "Decline: ", "declined - ", "No. ", "Reason: ", "imo ")
SUFFIXES = ("", "", ".", " per policy", " (see notes)", "!", " - checked twice")

PHRASINGS: dict[str, tuple[str, ...]] = {
    "young_healthcare": (
        "too young",
        "{name} is too young for this",
        "founded {age} years ago",
        "under two years old",
        "less than 2 years of history",
        "only {months} months in business",
        "brand new clinic, no track record",
        "practice opened {months} months ago",
        "startup, barely a year old",
        "not enough operating history",
        "incorporated {age} yrs ago, wait",
        "medical practice is too new",
    ),
    "high_debt_retail": (
        "debt too high",
        "debt ratio {debt} is excessive",
        "over-leveraged store",
        "{name} carries too much debt",
        "heavily indebted retailer",
        "leverage above what we accept",
        "can't service more borrowing",
        "liabilities are {pct}% of assets",
        "balance sheet too stretched",
    ),
    "unverified_foreign": (
        "identity not verified",
        "unverified foreign applicant",
        "could not verify the owner abroad",
        "KYC incomplete for overseas applicant",
        "passport not checked",
        "ID documents missing, applicant based abroad",
        "cross-border applicant with unconfirmed identity",
        "know-your-customer check outstanding",
    ),
    "seasonal": (
        "model ignores seasonality",
        "seasonal business, december spike not considered",
        "seasonal revenue pattern missed",
    ),
}
PROPOSED = {  # the proposal each concern overrides, and the reviewers' call
    "young_healthcare": ("approve", "decline"),
    "high_debt_retail": ("refer", "decline"),
    "unverified_foreign": ("approve", "refer"),
    "seasonal": ("decline", "approve"),
}
NOISE_SENTENCES = (
    "customer called to withdraw",
    "duplicate of an earlier application",
    "director on a sanctions watchlist",
    "gut feeling after the interview",
    "manager vouched for them",
    "see email thread with branch",
    "collateral confirmed by phone",
    "references did not check out",
    "pending lawsuit in public records",
    "guarantor added last week",
    "audited accounts look fine",
    "strong cash flow recently",
    "wrong product selected by the broker",
    "they asked for a smaller amount",
    "fraud team asked to hold",
    "address mismatch on the form",
    "board approval still missing",
    "insurance certificate expired",
    "tax lien discovered",
    "competitor offered better terms",
)
SYLLABLES = ("ka", "lo", "mi", "ne", "ru", "ta", "vo", "zi", "pe", "su", "gra", "tho")


def _pseudo_word(rng: np.random.Generator) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(3))


def base_payload(rng: np.random.Generator) -> dict[str, Any]:
    foreign = rng.random() < 0.3
    return {
        "industry": str(rng.choice(INDUSTRIES)),
        "company_age_years": round(float(rng.uniform(0.3, 30.0)), 1),
        "debt_ratio": round(float(rng.beta(2.0, 3.0)), 3),
        "annual_revenue": int(np.exp(rng.normal(13.0, 1.0))),
        "employees": int(rng.integers(1, 400)),
        "requested_amount": int(rng.integers(10, 500)) * 1000,
        "channel": str(rng.choice(("branch", "online", "broker"))),
        "applicant": {
            "country": str(rng.choice(FOREIGN)) if foreign else "US",
            "identity_verified": bool(rng.random() < 0.8),
        },
    }


def concern_payload(concern: str, rng: np.random.Generator) -> dict[str, Any]:
    p = base_payload(rng)
    if concern == "young_healthcare":
        p["industry"] = "healthcare"
        p["company_age_years"] = round(float(rng.uniform(0.2, 1.95)), 1)
    elif concern == "high_debt_retail":
        p["industry"] = "retail"
        p["debt_ratio"] = round(float(rng.uniform(0.82, 1.3)), 3)
    elif concern == "unverified_foreign":
        p["applicant"] = {"country": str(rng.choice(FOREIGN)), "identity_verified": False}
    return p  # "seasonal": random payload


def phrase(concern: str, rng: np.random.Generator, payload: dict[str, Any]) -> str:
    template = str(rng.choice(PHRASINGS[concern]))
    text = template.format(
        name=rng.choice(NAMES),
        age=payload["company_age_years"],
        months=max(1, round(payload["company_age_years"] * 12)),
        debt=payload["debt_ratio"],
        pct=round(payload["debt_ratio"] * 100),
    )
    return f"{rng.choice(PREFIXES)}{text}{rng.choice(SUFFIXES)}"


@dataclass
class World:
    overrides: list[OverrideSample]
    concerns: list[str | None]  # per override: the planted concern, None for noise
    others: list[dict[str, Any]]


def make_world(
    shares: dict[str, float], n: int = 700, n_others: int = 2500, seed: int = 1
) -> World:
    """n overrides: each concern at its share, the rest unrelated one-off reasons."""
    rng = np.random.default_rng(seed)
    labels: list[str | None] = []
    for name, share in shares.items():
        labels += [name] * round(share * n)
    labels += [None] * (n - len(labels))
    order = rng.permutation(n)
    labels = [labels[i] for i in order]
    overrides: list[OverrideSample] = []
    sentences = list(NOISE_SENTENCES)
    rng.shuffle(sentences)
    for concern in labels:
        if concern is None:
            payload = base_payload(rng)
            if sentences:
                reason = sentences.pop()
            else:
                reason = f"{_pseudo_word(rng)} {_pseudo_word(rng)} {_pseudo_word(rng)}"
            proposed, chosen = (
                str(a) for a in rng.choice(("approve", "decline", "refer"), 2, replace=False)
            )
        else:
            payload = concern_payload(concern, rng)
            reason = phrase(concern, rng, payload)
            proposed, chosen = PROPOSED[concern]
        overrides.append(OverrideSample(reason, proposed, chosen, payload))
    others = [base_payload(rng) for _ in range(n_others)]
    return World(overrides, labels, others)


WORLDS = {
    "young_healthcare": {
        "young_healthcare": 0.45,
        "high_debt_retail": 0.20,
        "unverified_foreign": 0.15,
        "seasonal": 0.07,
    },
    "high_debt_retail": {
        "high_debt_retail": 0.50,
        "unverified_foreign": 0.18,
        "young_healthcare": 0.12,
        "seasonal": 0.07,
    },
    "unverified_foreign": {
        "unverified_foreign": 0.42,
        "young_healthcare": 0.25,
        "high_debt_retail": 0.13,
        "seasonal": 0.07,
    },
}
EXPECTED_CONDITIONS: dict[
    str, list[tuple[str, str, Any]]
] = {  # field, op and the planted value (a threshold: near it)
    "young_healthcare": [("industry", "=", "healthcare"), ("company_age_years", "<", 2.0)],
    "high_debt_retail": [("industry", "=", "retail"), ("debt_ratio", ">", 0.8)],
    "unverified_foreign": [
        ("applicant.identity_verified", "=", "false"),
        ("applicant.country", "!=", "US"),
    ],
}
MODEL_FEATURES = {  # a model that uses neither of the planted fields
    "annual_revenue",
    "employees",
    "requested_amount",
    "channel",
}
_CONDITION = re.compile(r"^(?P<field>\S+) (?P<op>=|!=|<|>) (?P<value>.+)$")


def dominant(theme: Theme, world: World) -> tuple[str | None, float]:
    """The planted concern most of a theme's members come from, and that share."""
    from collections import Counter

    counts = Counter(world.concerns[i] for i in theme.members)
    concern, k = counts.most_common(1)[0]
    return concern, k / theme.count


def has_condition(theme: Theme, field: str, op: str, value: Any) -> bool:
    for text in theme.conditions:
        m = _CONDITION.match(text)
        assert m, f"unparseable condition {text!r}"
        if m["field"] != field or m["op"] != op:
            continue
        if isinstance(value, float):
            if abs(float(m["value"]) - value) <= 0.25 * max(1.0, value):
                return True
        elif m["value"] == value:
            return True
    return False


@pytest.fixture(scope="module", params=list(WORLDS))
def mined(request: pytest.FixtureRequest) -> tuple[str, World, list[Theme]]:
    top = request.param
    world = make_world(WORLDS[top], seed=11 + list(WORLDS).index(top))
    return top, world, mine_themes(world.overrides, world.others, MODEL_FEATURES)


def test_top_theme_is_the_planted_concern_with_its_whole_share(mined):
    top, world, themes = mined
    assert themes
    concern, purity = dominant(themes[0], world)
    assert concern == top
    assert purity >= 0.9
    planted = WORLDS[top][top]
    assert abs(themes[0].share - planted) <= 0.05, (themes[0].share, planted)
    # one theme per concern: no second theme draws mostly from the same concern
    assert [dominant(t, world)[0] for t in themes].count(top) == 1


def test_every_planted_concern_is_one_theme(mined):
    top, world, themes = mined
    for concern, planted in WORLDS[top].items():
        matching = [t for t in themes if dominant(t, world)[0] == concern]
        if concern == "seasonal":
            # random payloads and phrasings with little in common: nothing says
            # they are one concern; the phrasings may stay apart
            assert 1 <= len(matching) <= 3
            continue
        assert len(matching) == 1, (concern, [(t.label, t.share) for t in matching])
        assert abs(matching[0].share - planted) <= 0.05, (concern, matching[0].share, planted)
        for field, op, value in EXPECTED_CONDITIONS[concern]:
            assert has_condition(matching[0], field, op, value), (matching[0].conditions, field)


def test_top_theme_conditions_name_the_planted_fields(mined):
    top, _, themes = mined
    for field, op, value in EXPECTED_CONDITIONS[top]:
        assert has_condition(themes[0], field, op, value), (themes[0].conditions, field, op, value)


def test_random_payload_theme_gets_no_condition(mined):
    _, world, themes = mined
    seasonal = [t for t in themes if dominant(t, world)[0] == "seasonal"]
    assert seasonal
    for t in seasonal:
        assert t.conditions == []
        assert t.suggested_feature is None


def test_noise_forms_no_big_theme(mined):
    _, world, themes = mined
    for t in themes:
        concern, purity = dominant(t, world)
        if concern is None or purity < 0.8:
            assert t.share < 0.04, (t.label, t.share, t.examples)


def test_themes_are_sorted_by_share_and_consistent(mined):
    _, world, themes = mined
    n = len(world.overrides)
    shares = [t.share for t in themes]
    assert shares == sorted(shares, reverse=True)
    seen: set[int] = set()
    for t in themes:
        assert t.count == len(t.members) == len(set(t.members))
        assert t.share == pytest.approx(t.count / n)
        assert not seen & set(t.members)
        seen |= set(t.members)
        assert all(0 <= i < n for i in t.members)
        assert t.label and t.keywords
        assert 1 <= len(t.examples) <= 5
        member_reasons = {world.overrides[i].reason.strip() for i in t.members}
        assert set(t.examples) <= member_reasons


def test_share_of_action_overrides(mined):
    _, world, themes = mined
    for t in themes:
        proposals = [world.overrides[i].proposed_action for i in t.members]
        top_action = max(sorted(set(proposals)), key=proposals.count)
        assert t.proposed_action == top_action
        total = sum(1 for o in world.overrides if o.proposed_action == top_action)
        assert t.share_of_action_overrides == pytest.approx(proposals.count(top_action) / total)
    top_theme = themes[0]
    concern = mined[0]
    action = PROPOSED[concern][0]
    assert top_theme.proposed_action == action
    planted = sum(1 for c in world.concerns if c == concern)
    of_action = sum(1 for o in world.overrides if o.proposed_action == action)
    assert abs(top_theme.share_of_action_overrides - planted / of_action) <= 0.06


def test_suggested_feature_is_a_condition_field_the_model_lacks(mined):
    top, _, themes = mined
    fields = {f for f, _, _ in EXPECTED_CONDITIONS[top]}
    assert themes[0].suggested_feature in fields


# ---------------------------------------------------------------- one world, more checks


@pytest.fixture(scope="module")
def healthcare() -> World:
    return make_world(WORLDS["young_healthcare"], seed=11)


def test_suggested_feature_follows_the_active_model(healthcare):
    w = healthcare
    without_age = mine_themes(w.overrides, w.others, MODEL_FEATURES | {"industry"})
    assert without_age[0].suggested_feature == "company_age_years"
    with_age = mine_themes(w.overrides, w.others, MODEL_FEATURES | {"company_age_years"})
    assert with_age[0].suggested_feature == "industry"
    # one-hot style names count as using the field
    onehot = mine_themes(w.overrides, w.others, {"company_age_years", "industry=healthcare"})
    assert onehot[0].suggested_feature is None
    # no active model: the strongest condition field
    no_model = mine_themes(w.overrides, w.others, None)
    assert no_model[0].suggested_feature in {"company_age_years", "industry"}


def test_age_threshold_is_near_two_and_round(healthcare):
    themes = mine_themes(healthcare.overrides, healthcare.others, None)
    (age,) = [c for c in themes[0].conditions if c.startswith("company_age_years <")]
    value = float(age.split("<")[1])
    assert 1.8 <= value <= 2.5
    assert len(age.split("<")[1].strip()) <= 3  # "2" or "2.1", not "1.9734"


def test_deterministic_given_the_seed(healthcare):
    w = healthcare
    a = mine_themes(w.overrides, w.others, MODEL_FEATURES, seed=3)
    b = mine_themes(w.overrides, w.others, MODEL_FEATURES, seed=3)
    assert a == b


def test_max_themes_caps_the_list(healthcare):
    themes = mine_themes(healthcare.overrides, healthcare.others, None, max_themes=2)
    assert len(themes) == 2
    assert dominant(themes[0], healthcare)[0] == "young_healthcare"


def test_settings_tune_the_mining(healthcare):
    w = healthcare
    themes = mine_themes(w.overrides, w.others, None, settings=ThemeSettings(max_conditions=1))
    assert themes[0].conditions and all(len(t.conditions) <= 1 for t in themes)


def test_without_others_the_contrast_is_the_other_overrides(healthcare):
    themes = mine_themes(healthcare.overrides, [], MODEL_FEATURES)
    concern, _ = dominant(themes[0], healthcare)
    assert concern == "young_healthcare"
    assert has_condition(themes[0], "industry", "=", "healthcare")
    assert has_condition(themes[0], "company_age_years", "<", 2.0)


def test_a_small_theme_gets_no_condition():
    # 4 identical reasons on payloads that all satisfy a rare condition: too few to report
    rng = np.random.default_rng(5)
    world = make_world({"high_debt_retail": 0.5, "seasonal": 0.3}, n=200, seed=5)
    small = [
        OverrideSample(
            "needs a site visit first", "approve", "refer", concern_payload("young_healthcare", rng)
        )
        for _ in range(4)
    ]
    themes = mine_themes(world.overrides + small, world.others, None)
    visit = [t for t in themes if any(i >= 200 for i in t.members)]
    for t in visit:
        assert t.conditions == []


# ---------------------------------------------------------------- edges


def test_empty_input():
    assert mine_themes([], [], None) == []
    assert mine_themes([], [{"a": 1}], {"a"}) == []


def test_one_and_two_overrides():
    one = [OverrideSample("too young", "approve", "decline", {"industry": "healthcare"})]
    themes = mine_themes(one, [{"industry": "retail"}], None)
    assert len(themes) == 1
    assert themes[0].members == [0]
    assert themes[0].share == 1.0
    assert themes[0].conditions == []
    assert themes[0].examples == ["too young"]
    two = [
        *one,
        OverrideSample("founded 1.2 years ago", "approve", "decline", {"industry": "healthcare"}),
    ]
    themes = mine_themes(two, [], None)
    assert len(themes) <= 1
    if themes:
        assert themes[0].members == [0, 1]
        assert themes[0].share_of_action_overrides == 1.0


def test_odd_reasons_and_payloads():
    overrides = [
        OverrideSample("", "approve", "decline", {}),
        OverrideSample("!!!", "", "decline", {"x": None, "y": [1, 2]}),
        OverrideSample("too young", "approve", "decline", {"nested": {"deep": {"a": 1}}}),
        OverrideSample("too young", "approve", "decline", {"nested": {"deep": {"a": "b"}}}),
        OverrideSample("the of and", "refer", "decline", {"industry": True}),
    ]
    themes = mine_themes(overrides, [{"industry": False}], set())
    assert [t.members for t in themes] == [[2, 3]]
    assert themes[0].label == "too young"  # no condition: the reason as written


def test_themes_flatten_payloads_as_the_models_features_do():
    payload = {"a": 1, "b": {"c": "x", "d": {"e": 2.5}}, "f": None, "g": [1, 2], "h": True}
    assert flatten(payload) == {"a": 1, "b.c": "x", "b.d.e": 2.5, "g.length": 2, "h": True}


def test_normalisation_joins_phrasing_variants():
    assert normalise("Founded 1.2 years ago") == normalise("founded 3 yrs ago!")
    assert normalise("under two years old") == normalise("Under 2 years old")
    assert tokens("Companies verified") == ["company", "verify"]
    assert "not" in tokens("can't verify")
    assert "under" in tokens("under a year") and "less" in tokens("less than that")


def test_phrasings_with_no_word_in_common_and_random_payloads_stay_apart():
    # nothing in the text or the payloads says they are one concern
    rng = np.random.default_rng(2)
    overrides = [
        OverrideSample(
            "ignores seasonality" if i % 2 else "december spike missed",
            "decline",
            "approve",
            base_payload(rng),
        )
        for i in range(60)
    ]
    others = [base_payload(rng) for _ in range(300)]
    apart = mine_themes(overrides, others, None)
    assert len(apart) == 2


def test_suggested_feature_from_the_theme_words():
    # no payload condition (random payloads), but the reasons name a field
    rng = np.random.default_rng(4)

    def payload() -> dict[str, Any]:
        return {**base_payload(rng), "collateral": {"has_collateral": bool(rng.random() < 0.5)}}

    texts = ("collateral ignored", "the collateral was not considered", "collateral value missed")
    overrides = [OverrideSample(texts[i % 3], "decline", "approve", payload()) for i in range(45)]
    others = [payload() for _ in range(300)]
    themes = mine_themes(overrides, others, {"industry", "debt_ratio"})
    assert themes and themes[0].conditions == []
    assert themes[0].suggested_feature == "collateral.has_collateral"
    used = mine_themes(overrides, others, {"collateral.has_collateral"})
    assert used[0].suggested_feature is None
