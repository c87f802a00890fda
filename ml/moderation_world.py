"""A generated content-moderation world, where the evidence is the text.

Each case is a post: a few benign sentences, sometimes with a scam written into it, and
counts about its author (account age, links, followers) and a short channel name. The
label ("remove" or "keep") is drawn from a probability the generator knows
(`ModerationPost.p_remove`), so the Bayes rule (remove when p_remove > 0.5) and its
accuracy are known exactly.

The scams (CONCERNS) are written many ways: several frames per concern with slots
("double your {coin} {when}": 2x, triple...; bitcoin, btc, eth...), and each word of a
scam is misspelt one time in six on average (a letter dropped, doubled or swapped, or
written as a digit: "b1tcoin", "dobule"). Benign sentences use the same words in other
senses ("bitcoin price is wild today", "my sister is on telegram").

    logit p_remove = -3.0
                     + 4.5 if a money, prize or login scam is in the text
                     + 4.5 if an "off-platform" invitation ("dm me on telegram") is in the
                           text of an account younger than 30 days (harmless otherwise)
                     + 0.5 per link, up to 4
                     + 1.0 if the account is younger than 7 days

The upstream proposer is a keyword filter: it removes posts with a listed keyword
(UPSTREAM_KEYWORDS, as written: misspellings slip through, and so do the benign uses of a
word) or with 3 links or more, and keeps the rest; it ignores the account's age.

Deterministic: the same (n, seed, start) gives the same posts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

REMOVE, KEEP = "remove", "keep"
START = datetime(2025, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=180)
CHANNELS = ("comments", "forum", "marketplace")
YOUNG_DAYS = 30  # an off-platform invitation from an account younger than this is a scam
NEW_DAYS = 7
MISSPELL = 1 / 6
UPSTREAM_KEYWORDS = (
    "double your",
    "claim your free",
    "verify your account",
    "dm me on telegram",
    "btc",
)

_SLOTS: dict[str, tuple[str, ...]] = {
    "coin": ("bitcoin", "btc", "crypto", "eth", "ethereum", "usdt", "coins"),
    "double": ("double", "2x", "triple", "multiply", "grow"),
    "when": ("in 24 hours", "overnight", "today", "this week", "", "fast"),
    "amount": ("0.1", "0.5", "1", "$200", "$500", "100"),
    "prize": ("iphone", "gift card", "$1000 amazon voucher", "ps5", "macbook", "cash prize"),
    "won": ("won", "have won", "are the winner of", "got selected for"),
    "now": ("now", "today only", "before midnight", "here", "while it lasts"),
    "account": ("account", "profile", "wallet", "bank account"),
    "suspended": ("suspended", "locked", "closed", "deleted"),
    "verify": ("verify", "confirm", "validate", "re-enter"),
    "secret": ("password", "login details", "card number", "seed phrase"),
    "app": ("telegram", "whatsapp", "signal", "wechat"),
    "dm": ("dm me", "message me", "text me", "contact me", "hit me up", "add me"),
    "for": ("for details", "for more info", "to learn how", "", "for the link"),
}

CONCERNS: dict[str, tuple[str, ...]] = {
    "money": (
        "{double} your {coin} {when}",
        "send {amount} {coin} and get double back",
        "guaranteed returns on your {coin} {when}",
        "my {coin} mentor turned $500 into $9000 {when}",
        "invest {amount} in {coin} and {double} it guaranteed",
        "{coin} doubling program, no risk",
    ),
    "prize": (
        "congratulations you {won} a free {prize}",
        "claim your free {prize} {now}",
        "{prize} giveaway for the first 100 people, click {now}",
        "you {won} a {prize}, claim it {now}",
        "free {prize} for every follower {now}",
    ),
    "login": (
        "your {account} will be {suspended}, {verify} it here",
        "{verify} your {account} {now} to avoid being {suspended}",
        "unusual login detected, {verify} your {secret}",
        "update your {secret} or your {account} gets {suspended}",
        "security alert: {verify} your {secret} at the link",
    ),
    "off_platform": (
        "{dm} on {app} {for}",
        "{dm} on {app}",
        "let's talk on {app} {for}",
        "reply here or {dm} on {app} {for}",
    ),
}

BENIGN = (
    "just finished my morning run",
    "anyone tried the new cafe downtown",
    "great game last night, what a finish",
    "my cat knocked over the plant again",
    "looking for book recommendations for the summer",
    "the bus was late three days in a row",
    "made pancakes for the whole family",
    "does anyone know a good plumber nearby",
    "the sunset over the lake was beautiful",
    "finally fixed the squeaky door",
    "bitcoin price is wild today, glad I sold",
    "my sister is on telegram for her book club",
    "I won a free coffee at the cafe this morning",
    "forgot my password again, classic me",
    "my account got hacked last year so be careful",
    "messaged my friend on whatsapp about the trip",
    "this week I doubled my running distance",
    "the giveaway at the library was lovely",
    "we need to verify the dates for the reunion",
    "selling my old bike, good condition",
    "thanks everyone for the birthday wishes",
    "the new season of the show is out",
    "our garden tomatoes are finally ripe",
    "crypto talk at work is getting old",
)

_LEET = {"o": "0", "i": "1", "e": "3", "a": "4", "s": "5", "l": "1"}


@dataclass
class ModerationPost:
    payload: dict[str, Any]
    label: str  # drawn from p_remove
    upstream_action: str
    p_remove: float  # the generator's probability of "remove": the Bayes rule's knowledge
    created_at: datetime
    concern: str | None  # the scam written into the text, if any


def _misspell(word: str, rng: np.random.Generator) -> str:
    if len(word) < 3 or not word.isalpha():
        return word
    i = int(rng.integers(1, len(word) - 1))
    how = int(rng.integers(0, 4))
    if how == 0:
        return word[:i] + word[i + 1 :]
    if how == 1:
        return word[:i] + word[i] + word[i:]
    if how == 2:
        return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]
    leet = [j for j, c in enumerate(word) if c in _LEET]
    if not leet:
        return word.upper()
    j = leet[int(rng.integers(0, len(leet)))]
    return word[:j] + _LEET[word[j]] + word[j + 1 :]


def _scam(concern: str, rng: np.random.Generator) -> str:
    frames = CONCERNS[concern]
    text = frames[int(rng.integers(0, len(frames)))]
    for slot, options in _SLOTS.items():
        while "{" + slot + "}" in text:
            text = text.replace("{" + slot + "}", options[int(rng.integers(0, len(options)))], 1)
    words = [_misspell(w, rng) if rng.random() < MISSPELL else w for w in text.split()]
    return " ".join(words)


def upstream_action(text: str, links: int) -> str:
    """The keyword filter's proposal."""
    lowered = text.lower()
    if links >= 3 or any(k in lowered for k in UPSTREAM_KEYWORDS):
        return REMOVE
    return KEEP


def generate_moderation_world(
    n: int, seed: int, *, start: datetime = START
) -> list[ModerationPost]:
    """n posts in created_at order, spread over 180 days from `start`."""
    rng = np.random.default_rng(seed)
    age = np.exp(rng.normal(np.log(200.0), 1.6, n)).astype(np.int64)
    young = age < YOUNG_DAYS
    followers = np.exp(rng.normal(np.log(80.0), 1.3, n)).astype(np.int64)
    channel = rng.choice(len(CHANNELS), size=n, p=(0.5, 0.3, 0.2))
    scam_rate = np.where(young, 0.35, 0.12) * np.where(channel == 2, 1.5, 1.0)
    has_scam = rng.random(n) < scam_rate
    concern_pick = rng.choice(len(CONCERNS), size=n, p=(0.3, 0.25, 0.2, 0.25))
    links = rng.poisson(np.where(has_scam, 1.2, 0.3))
    gaps = np.sort(rng.uniform(0.0, 1.0, n)) * SPAN.total_seconds()
    names = list(CONCERNS)

    posts: list[ModerationPost] = []
    for i in range(n):
        sentences = [BENIGN[int(k)] for k in rng.integers(0, len(BENIGN), int(rng.integers(1, 4)))]
        concern = names[concern_pick[i]] if has_scam[i] else None
        if concern is not None:
            sentences.insert(int(rng.integers(0, len(sentences) + 1)), _scam(concern, rng))
        text = ". ".join(sentences)
        if rng.random() < 0.2:
            text = text.capitalize() + "!"
        logit = -3.0 + 0.5 * min(int(links[i]), 4) + (1.0 if age[i] < NEW_DAYS else 0.0)
        if concern in ("money", "prize", "login") or (concern == "off_platform" and young[i]):
            logit += 4.5
        p = float(1.0 / (1.0 + np.exp(-logit)))
        label = REMOVE if rng.random() < p else KEEP
        payload = {
            "text": text,
            "account_age_days": int(age[i]),
            "links": int(links[i]),
            "followers": int(followers[i]),
            "channel": CHANNELS[channel[i]],
        }
        posts.append(
            ModerationPost(
                payload=payload,
                label=label,
                upstream_action=upstream_action(text, int(links[i])),
                p_remove=p,
                created_at=start + timedelta(seconds=float(gaps[i])),
                concern=concern,
            )
        )
    return posts
