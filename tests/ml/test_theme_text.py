"""Themes that learn from text (ml.themes.text): conditions on a free-text payload field,
the text field suggested when the model ignores it, and one concern written many ways
merged by what its items' texts share, on the moderation world's override window
(tests/ml/moderation_overrides.py); a world without text keeps its themes."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from ml.moderation_world import BENIGN, generate_moderation_world
from ml.text import stem, tokens
from ml.themes import OverrideSample, Theme, ThemeSettings, mine_themes
from ml.themes.conditions import Contrast
from ml.themes.corpus import build_corpus
from ml.themes.groups import Grouper
from ml.themes.merging import by_text
from ml.themes.payloads import PayloadTable
from ml.themes.text import text_fields
from tests.ml.moderation_overrides import (
    MODEL_WITHOUT_TEXT,
    ModerationWindow,
    moderation_window,
    planted_theme,
)
from tests.ml.test_themes import WORLDS, make_world

SCAMS = ("money", "prize", "login")  # harmful whatever the account: only the text tells
N_POSTS = 6000


@pytest.fixture(
    scope="module",
    params=[(N_POSTS, ()), (N_POSTS, ("links",)), (2 * N_POSTS, ())],
    ids=["all fields", "without links", "twice the posts"],
)
def mined(request: pytest.FixtureRequest) -> tuple[ModerationWindow, list[Theme]]:
    # twice the posts: pieces of a few dozen items, where "links > 0" (true of 70-75%
    # of a scam's posts) beside the text condition made the pair hold for under 65%,
    # and pieces moved to a theme of "links > 0" alone until it mixed three scams
    n, drop = request.param
    window = moderation_window(n, 13, drop=drop)
    return window, mine_themes(window.overrides, window.others, MODEL_WITHOUT_TEXT)


def _concern_words(concern: str, n: int = 4000, seed: int = 99) -> tuple[set[str], set[str]]:
    """The stems of the words in posts with this scam, and in posts without any scam."""
    inside: Counter[str] = Counter()
    outside: Counter[str] = Counter()
    posts = generate_moderation_world(n, seed)
    for post in posts:
        words = set(tokens(post.payload["text"]))
        if post.concern == concern:
            inside.update(words)
        elif post.concern is None:
            outside.update(words)
    n_in = sum(p.concern == concern for p in posts)
    n_out = sum(p.concern is None for p in posts)
    typical = {w for w, k in inside.items() if k / n_in >= 3 * outside[w] / n_out}
    return typical, set(inside)


def test_each_scam_written_four_ways_is_one_theme_conditioned_on_its_text(mined):
    window, themes = mined
    total = len(window.overrides)
    for concern in SCAMS:
        planted = [i for i, c in enumerate(window.concerns) if c == concern]
        theme = planted_theme(themes, window, concern)
        assert theme is not None
        held = [i for i in theme.members if window.concerns[i] == concern]
        # one theme of about a fifth of the overrides, not four of 5-7%
        assert len(held) >= 0.85 * len(planted)
        assert len(held) >= 0.9 * theme.count
        assert 0.12 <= theme.share <= 0.3
        assert len({window.ways[i] for i in held}) == 4  # the reasons share no word
        others = [
            t
            for t in themes
            if t is not theme and sum(window.concerns[i] == concern for i in t.members) >= 5
        ]
        assert others == []
        text = [c for c in theme.conditions if c.startswith("text mentions ")]
        assert len(text) == 1, theme.conditions
        assert "text mentioning " in theme.label
        # the words named are the scam's: far commoner in its posts than in benign ones
        typical, present = _concern_words(concern)
        named = text[0].removeprefix("text mentions ").replace(" or ", ", ").split(", ")
        assert 2 <= len(named) <= 5
        assert all(stem(w) in present for w in named), named
        assert sum(stem(w) in typical for w in named) >= len(named) - 1, named
    assert sum(t.share for t in themes) <= 1.0 + 1e-9
    assert total > 500


def test_the_text_field_is_suggested_first_when_the_model_ignores_it(mined):
    window, themes = mined
    for concern in SCAMS:
        theme = planted_theme(themes, window, concern)
        assert theme is not None
        first = theme.suggested_features[0]
        assert first.field == "text" and not first.used_by_model
        assert theme.suggested_feature == "text"
        assert first.evidence.startswith("text mentions ")
        # the evidence: each word with its share of the theme
        assert "its items' text mentions " in first.evidence
        assert "%" in first.evidence.split("its items' text mentions ")[1]


def test_a_model_that_reads_the_text_uses_it():
    window = moderation_window(N_POSTS, 14)
    themes = mine_themes(window.overrides, window.others, MODEL_WITHOUT_TEXT | {"text"})
    for concern in SCAMS:
        theme = planted_theme(themes, window, concern)
        assert theme is not None
        by_field = {s.field: s for s in theme.suggested_features}
        assert by_field["text"].used_by_model is True
        assert theme.suggested_feature != "text"
    # without a model, the keyword filter's proposals barely depend on what the themes'
    # texts mention (it misses these posts): the text is suggested
    blind = mine_themes(
        window.overrides, window.others, None, other_proposals=window.other_proposals
    )
    money = planted_theme(blind, window, "money")
    assert money is not None and money.suggested_feature == "text"


def _grouper(window: ModerationWindow) -> Grouper:
    table = PayloadTable([o.payload for o in window.overrides], window.others, ThemeSettings())
    corpus = build_corpus([o.reason for o in window.overrides], ThemeSettings())
    return Grouper(
        Contrast(table, len(window.overrides), len(window.others), 1, ThemeSettings()),
        corpus,
        ThemeSettings(),
    )


def test_two_ways_of_writing_one_scam_merge_by_their_text_and_two_scams_do_not():
    window = moderation_window(N_POSTS, 15, drop=("links",))
    grouper = _grouper(window)

    def way(concern: str, k: int) -> Any:
        members = [
            i
            for i, (c, w) in enumerate(zip(window.concerns, window.ways, strict=True))
            if c == concern and w == k
        ]
        return grouper.group([np.array(members)])

    for concern in SCAMS:
        a, b = way(concern, 0), way(concern, 2)
        assert a.conditions and b.conditions
        assert by_text(grouper, a, b) is not None
    assert by_text(grouper, way("money", 0), way("login", 1)) is None
    assert by_text(grouper, way("prize", 3), way("money", 2)) is None
    # an off-platform invitation is harmful from a young account only: the posts kept
    # from older accounts mention the same words, and the age keeps them apart
    young = way("off_platform", 0)
    kept = [
        i
        for i, o in enumerate(window.overrides)
        if o.chosen_action == "keep" and "telegram" in o.payload["text"].lower()
    ]
    assert len(kept) >= 5
    assert any(c.startswith("account_age_days <") for c in (x.text for x in young.conditions))
    assert by_text(grouper, young, grouper.group([np.array(kept)])) is None


def _with_notes(overrides: list[OverrideSample], others: list[dict[str, Any]], seed: int):
    """The same window, every payload with a free-text note unrelated to the concerns."""
    rng = np.random.default_rng(seed)

    def note() -> str:
        return ". ".join(BENIGN[int(k)] for k in rng.integers(0, len(BENIGN), 3))

    noted = [replace(o, payload={**o.payload, "note": note()}) for o in overrides]
    return noted, [{**p, "note": note()} for p in others]


@pytest.mark.parametrize("top", list(WORLDS)[:2])
def test_a_world_whose_text_says_nothing_keeps_its_themes(top):
    world = make_world(WORLDS[top], seed=11 + list(WORLDS).index(top))
    plain = mine_themes(world.overrides, world.others, None)
    table = PayloadTable([o.payload for o in world.overrides], world.others, ThemeSettings())
    assert text_fields(table) == []  # no free text in a loan payload
    assert not any("mentions" in c for t in plain for c in t.conditions)
    overrides, others = _with_notes(world.overrides, world.others, 3)
    noted_table = PayloadTable([o.payload for o in overrides], others, ThemeSettings())
    assert [f.name for f in text_fields(noted_table)] == ["note"]
    noted = mine_themes(overrides, others, None)
    assert not any("mentions" in c for t in noted for c in t.conditions)
    assert [(t.members, t.conditions, t.label) for t in noted] == [
        (t.members, t.conditions, t.label) for t in plain
    ]
    assert all(s.field != "note" for t in noted for s in t.suggested_features)
