"""An override window on the moderation world (ml.moderation_world), for theme mining.

The reviewers' call on a post is its drawn label; where it differs from the keyword
filter's proposal the post is an override, with a reason. A reason written for a scam
the filter missed names the concern in one of four ways that share no word ("crypto
doubling scam", "fake investment returns", "ponzi pitch", "get rich quick fraud"), so
the reasons alone split a concern into four; what the four share is the posts' text.
The text is the only place the concern lives: no number or category of the payload sets
the scams apart (the off-platform one aside: only from young accounts is it harmful).
A post kept against the filter, or removed with no scam in it, gets a reason of its own
kind ("harmless post", "spam"). Prefixes and suffixes vary the reasons further.

    .venv/bin/python -m tests.ml.moderation_overrides [--seeds 13 14 15] [--n 6000]

    [--drop links] [--max-themes 20]

prints, per seed, the themes mined by a model that uses every payload field but the text,
and per planted concern: the themes mostly of it (their shares of the overrides) and how
much of it its largest theme holds. --drop leaves payload fields out (without "links",
no payload field but the age tells the scams from the rest); --max-themes is
mine_themes's (the job shows 8; 20 shows how far a concern is split).
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from ml.moderation_world import REMOVE, generate_moderation_world
from ml.themes import OverrideSample, Theme, mine_themes

REASONS: dict[str, tuple[tuple[str, ...], ...]] = {  # concern -> its four ways -> variants
    "money": (
        ("crypto doubling scam", "classic crypto doubling scam", "crypto doubling scam again"),
        ("fake investment returns", "promises fake investment returns", "fake returns"),
        ("ponzi pitch", "looks like a ponzi pitch", "ponzi scheme pitch"),
        ("get rich quick fraud", "get rich quick nonsense", "rich quick fraud"),
    ),
    "prize": (
        ("fake giveaway", "bogus giveaway", "fake giveaway bait"),
        ("prize scam", "prize scam, nobody won", "another prize scam"),
        ("sweepstakes bait", "bogus sweepstakes", "sweepstakes lure"),
        ("lottery fraud", "lottery style fraud", "fraudulent lottery"),
    ),
    "login": (
        ("phishing link", "phishing attempt", "obvious phishing link"),
        ("credential theft", "tries to steal credentials", "credential harvesting"),
        ("account takeover bait", "takeover bait", "account takeover attempt"),
        ("fake security alert", "fake security warning", "bogus security alert"),
    ),
    "off_platform": (
        ("luring users off platform", "lures users off platform", "off platform lure"),
        ("moving the chat to telegram", "moving chat elsewhere", "moving conversation out"),
        ("grooming new contacts privately", "private grooming", "grooming contacts"),
        ("burner account recruiting", "burner account", "recruiting from a burner"),
    ),
}
HARMLESS = (
    "harmless post",
    "nothing wrong here",
    "filter false positive",
    "legit, keep",
    "normal chatter",
    "fine to keep",
)
MODEL_WITHOUT_TEXT = frozenset({"account_age_days", "links", "followers", "channel"})
SPAM = ("spam", "low quality spam", "spammy links", "junk post")
PREFIXES = ("", "", "", "Remove: ", "removed - ", "mod: ")
SUFFIXES = ("", "", ".", " (checked)", "!", " per policy")


@dataclass
class ModerationWindow:
    """The overrides of a moderation world, the contrast, and what was planted."""

    overrides: list[OverrideSample]
    concerns: list[str | None]  # per override: the scam the post holds, if any
    ways: list[int]  # per override: which of its concern's four ways the reason is (-1)
    others: list[dict[str, Any]]  # the payloads of the posts not overridden
    other_proposals: list[str]


def moderation_window(n: int, seed: int, *, drop: tuple[str, ...] = ()) -> ModerationWindow:
    """The overrides and the contrast of n posts of the moderation world (seed), the
    payload fields in `drop` left out."""
    rng = np.random.default_rng(seed + 1000)
    overrides: list[OverrideSample] = []
    concerns: list[str | None] = []
    ways: list[int] = []
    others: list[dict[str, Any]] = []
    proposals: list[str] = []
    for post in generate_moderation_world(n, seed):
        for name in drop:
            del post.payload[name]
        if post.label == post.upstream_action:
            others.append(post.payload)
            proposals.append(post.upstream_action)
            continue
        way = -1
        if post.label != REMOVE:
            reason = str(rng.choice(HARMLESS))
        elif post.concern is None:
            reason = str(rng.choice(SPAM))
        else:
            way = int(rng.integers(0, 4))
            reason = str(rng.choice(REASONS[post.concern][way]))
        reason = f"{rng.choice(PREFIXES)}{reason}{rng.choice(SUFFIXES)}"
        overrides.append(OverrideSample(reason, post.upstream_action, post.label, post.payload))
        concerns.append(post.concern if post.label == REMOVE else None)
        ways.append(way)
    return ModerationWindow(overrides, concerns, ways, others, proposals)


def planted_theme(themes: list[Theme], window: ModerationWindow, concern: str) -> Theme | None:
    """The theme holding most of the concern's overrides (None: no theme holds any)."""
    held = [(sum(window.concerns[i] == concern for i in t.members), t) for t in themes]
    best = max(held, key=lambda h: h[0], default=(0, None))
    return best[1] if best[0] > 0 else None


def _measure(n: int, seed: int, drop: tuple[str, ...], max_themes: int) -> None:
    window = moderation_window(n, seed, drop=drop)
    started = time.perf_counter()
    themes = mine_themes(window.overrides, window.others, MODEL_WITHOUT_TEXT, max_themes=max_themes)
    seconds = time.perf_counter() - started
    total = len(window.overrides)
    planted = Counter(c for c in window.concerns if c is not None)
    print(f"seed {seed}: {total} overrides, {len(themes)} themes, {seconds:.1f} s")
    for t in themes:
        held = Counter(window.concerns[i] or "-" for i in t.members)
        print(f"  {t.share:5.1%} {t.label!r} {t.conditions} {dict(held.most_common(3))}")
    for concern in sorted(planted):
        mostly = [
            t for t in themes if sum(window.concerns[i] == concern for i in t.members) > t.count / 2
        ]
        best = planted_theme(themes, window, concern)
        caught = sum(window.concerns[i] == concern for i in best.members) if best else 0
        print(
            f"  {concern}: {planted[concern]} overrides ({planted[concern] / total:.0%}); "
            f"themes mostly of it: {len(mostly)} ({', '.join(f'{t.share:.0%}' for t in mostly)}); "
            f"its largest theme holds {caught / planted[concern]:.0%} of it"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[13, 14, 15])
    parser.add_argument("--n", type=int, default=6000)
    parser.add_argument("--drop", nargs="*", default=[], help="payload fields left out")
    parser.add_argument("--max-themes", type=int, default=20)
    args = parser.parse_args()
    for seed in args.seeds:
        _measure(args.n, seed, tuple(args.drop), args.max_themes)


if __name__ == "__main__":
    main()
