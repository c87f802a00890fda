"""Drift alarms: has people's agreement with the served model, or the calibration of its
confidences, moved since the period after its promotion?

Per workflow and tier, the human decisions on the served model's proposals since its
promotion are looked at in steps of a `window`: the k-th look takes the tier's first
n_k decisions (n_k a multiple of `window`, from the first with two windows of
MIN_WINDOW) and splits them in two windows: the baseline (the first `window`) and the
recent window (the last `window` of the n_k, never overlapping the baseline; until
n_k reaches 2 x `window`, each window takes half), so the recent windows of
successive looks do not overlap. A check tests each tier's latest look; a check
between two looks tests the same decisions again and answers the same, so how often
the monitor runs does not matter. A person agreed when they approved the
proposed action. Two tests compare the windows:

- agreement: Fisher's exact test, one-sided (did agreement fall?);
- calibration: the gap between agreement and confidence (mean of agreed - confidence)
  compared by a two-sided Welch z-test (did the confidences come to overstate or
  understate how often people agree?).

The false-alarm rate is stated over a served model's whole monitored life: on a stable
world the chance that any alarm is ever raised for the model, however long it is
served and however often it is checked, is at most `false_alarm_rate` (default 1%).
The rate is spent over the looks, alpha-spending: look k runs each test at
rate / (k (k + 1)) / (2 x 4) (the shares 1 / (k (k + 1)) sum to 1 over all k; the
split by Bonferroni is over the two statistics and the four tiers, whether or not a
tier is decided in), so the union of every test the model ever sees stays within the
rate (one caveat: a decision undone after a look, or one recorded late with an
earlier time, changes what that look saw, and the look is then tested again on its
new decisions). The price is power late in a model's life: at the 10th look (2,000
decisions in a tier with windows of 200) each test runs at 1.1e-5, and only a larger
change fires; a retrained model's promotion starts afresh. Fisher's test is exact and
conservative; the z-test is a normal approximation, which is why a window needs
MIN_WINDOW decisions.

An alarm opens an episode for its (model, tier): it is raised once, when a test first
fires, and not again until both statistics are back within bounds (p >= CLEAR_P, far
above the firing level so that a p-value wavering at the threshold does not raise a
new alarm on every look); then a later alarm may be raised. An episode of a model no
longer served ends.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from statistics import NormalDist, fmean

from domain.enums import Tier

DEFAULT_WINDOW = 200
DEFAULT_FALSE_ALARM_RATE = 0.01
MIN_WINDOW = 20
"""Fewer decisions in a window test nothing: neither test has power, the z-test's
normal approximation is poor."""
CLEAR_P = 0.05
"""An episode ends when both statistics' p-values are at least this (unadjusted)."""
STATISTICS = 2  # agreement and calibration: the Bonferroni split counts them


@dataclass(frozen=True)
class ReviewedProposal:
    """A person's decision on one of the served model's proposals."""

    decision_id: str
    agreed: bool  # they approved the proposed action
    confidence: float  # the model's confidence in it
    decided_at: datetime


@dataclass(frozen=True)
class Look:
    """The `number`-th look at a tier: its first `decisions` decisions since the
    promotion, the baseline its first `baseline`, the recent window those from
    `recent_from` on (0-based positions, oldest first)."""

    number: int
    decisions: int
    baseline: int
    recent_from: int

    @property
    def recent(self) -> int:
        """How many decisions the recent window holds."""
        return self.decisions - self.recent_from


def look_step(window: int) -> int:
    """Decisions in a tier between two looks: a window, so recent windows do not overlap."""
    return window


def latest_look(decisions: int, window: int) -> Look | None:
    """The latest look at a tier with `decisions` decisions since the promotion; None
    before the first (two windows of MIN_WINDOW)."""
    if window < MIN_WINDOW:
        raise ValueError(f"a drift window holds at least {MIN_WINDOW} decisions, not {window}")
    step = look_step(window)
    first = -(-2 * MIN_WINDOW // step) * step
    if decisions < first:
        return None
    seen = decisions // step * step
    baseline = min(window, seen // 2)
    return Look(
        number=(seen - first) // step + 1,
        decisions=seen,
        baseline=baseline,
        recent_from=max(baseline, seen - window),
    )


def look_level(false_alarm_rate: float, look: int) -> float:
    """The level each test of the `look`-th look runs at: its share 1 / (k (k + 1)) of
    the rate, split over the two statistics and every tier."""
    share = 1 / (look * (look + 1))
    return false_alarm_rate * share / (STATISTICS * len(Tier))


@dataclass(frozen=True)
class TierWindows:
    """The baseline (after the promotion) and the recent window of one tier's look."""

    look: Look
    baseline: Sequence[ReviewedProposal]
    recent: Sequence[ReviewedProposal]


def windows_at(
    look: Look, baseline: Sequence[ReviewedProposal], recent: Sequence[ReviewedProposal]
) -> TierWindows | None:
    """The look's windows from the decisions read for them (oldest first each); None
    when either is not the size the look says (decisions undone meanwhile)."""
    if len(baseline) != look.baseline or len(recent) != look.recent:
        return None
    return TierWindows(look, baseline, recent)


# ------------------------------------------------------------------ the tests


def fisher_fall_p(agreed_before: int, n_before: int, agreed_now: int, n_now: int) -> float:
    """One-sided p-value of Fisher's exact test that the agreement rate fell: the chance,
    were both windows one population, of `agreed_now` or fewer agreements among the
    recent window's `n_now` (hypergeometric lower tail)."""
    population = n_before + n_now
    successes = agreed_before + agreed_now
    failures = population - successes
    low = max(0, n_now - failures)
    # The lower tail summed term by term from its first (the ratio of successive terms
    # of the hypergeometric distribution), in floats: exact binomials are slow at 400.
    term = math.exp(
        _log_comb(successes, low) + _log_comb(failures, n_now - low) - _log_comb(population, n_now)
    )
    tail = 0.0
    for k in range(low, agreed_now + 1):
        tail += term
        term *= (successes - k) * (n_now - k) / ((k + 1) * (failures - n_now + k + 1))
    return min(1.0, tail)


def _log_comb(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def welch_p(before: Sequence[float], now: Sequence[float]) -> float:
    """Two-sided p-value of Welch's z-test that two samples share their mean."""
    difference = fmean(now) - fmean(before)
    spread = _variance(before) / len(before) + _variance(now) / len(now)
    if spread == 0:
        return 1.0 if difference == 0 else 0.0
    return 2 * (1 - NormalDist().cdf(abs(difference) / math.sqrt(spread)))


def _variance(sample: Sequence[float]) -> float:
    # In floats: statistics.variance is exact, in fractions, and slow on every check.
    mean = fmean(sample)
    return math.fsum((x - mean) ** 2 for x in sample) / (len(sample) - 1)


def _gaps(window: Sequence[ReviewedProposal]) -> list[float]:
    return [float(p.agreed) - p.confidence for p in window]


def _agreement(window: Sequence[ReviewedProposal]) -> float:
    return sum(p.agreed for p in window) / len(window)


@dataclass(frozen=True)
class TierTest:
    """Both statistics of one tier, and what they say in words."""

    tier: Tier
    windows: TierWindows
    agreement_p: float
    calibration_p: float

    @classmethod
    def of(cls, tier: Tier, windows: TierWindows) -> TierTest:
        base, recent = windows.baseline, windows.recent
        agreement_p = fisher_fall_p(
            sum(p.agreed for p in base), len(base), sum(p.agreed for p in recent), len(recent)
        )
        return cls(tier, windows, agreement_p, welch_p(_gaps(base), _gaps(recent)))

    def fires(self, level: float) -> bool:
        return min(self.agreement_p, self.calibration_p) < level

    def within_bounds(self) -> bool:
        return min(self.agreement_p, self.calibration_p) >= CLEAR_P

    def message(self, level: float, now: datetime) -> str:
        """What moved, by how much and since when, e.g. "agreement on ANALYST_REVIEW fell
        from 93% to 78% since 12 November (p < 0.001)"."""
        base, recent = self.windows.baseline, self.windows.recent
        since = day(recent[0].decided_at, now)
        parts = []
        if self.agreement_p < level:
            parts.append(
                f"agreement on {self.tier.value} fell from {_agreement(base):.0%} to "
                f"{_agreement(recent):.0%} since {since} ({p_bucket(self.agreement_p)})"
            )
        if self.calibration_p < level:
            parts.append(
                f"calibration on {self.tier.value} moved since {since}: people agreed "
                f"{_gap_words(fmean(_gaps(recent)))} than the model's confidence "
                f"({fmean(p.confidence for p in recent):.0%} on average), against "
                f"{_gap_words(fmean(_gaps(base)))} after its promotion "
                f"({p_bucket(self.calibration_p)})"
            )
        return "; ".join(parts)


def _gap_words(gap: float) -> str:
    points = round(abs(gap) * 100)
    if points == 0:
        return "as often"
    unit = "point" if points == 1 else "points"
    return f"{points} {unit} {'more' if gap > 0 else 'less'} often"


def p_bucket(p: float) -> str:
    """p < 0.001, p < 0.01, p < 0.05, or the p-value to two figures."""
    for bound in (0.001, 0.01, 0.05):
        if p < bound:
            return f"p < {bound:g}"
    return f"p = {p:.2g}"


def day(moment: datetime, now: datetime) -> str:
    """ "12 November", with the year when it is not `now`'s."""
    text = f"{moment.day} {moment:%B}"
    return text if moment.year == now.year else f"{text} {moment.year}"


# ------------------------------------------------------------------ alarms and episodes


@dataclass(frozen=True)
class DriftAlarm:
    """One episode of drift of a served model on a tier: open until `cleared_at`."""

    id: str
    workflow_id: str
    model_id: str
    tier: Tier
    message: str
    raised_at: datetime
    cleared_at: datetime | None = None

    @classmethod
    def raise_(
        cls, workflow_id: str, model_id: str, tier: Tier, message: str, now: datetime
    ) -> DriftAlarm:
        return cls(f"drf_{uuid.uuid4().hex}", workflow_id, model_id, tier, message, now)


@dataclass(frozen=True)
class DriftCheck:
    """What one check changes: alarms raised (to announce) and episodes ended."""

    raised: list[DriftAlarm]
    cleared: list[DriftAlarm]
    tested: list[TierTest]


def check_drift(
    workflow_id: str,
    model_id: str,
    windows: Mapping[Tier, TierWindows],
    open_alarms: Sequence[DriftAlarm],
    now: datetime,
    false_alarm_rate: float = DEFAULT_FALSE_ALARM_RATE,
) -> DriftCheck:
    """Test each tier's look, each at its level (`look_level`); raise an alarm where a
    test fires and no episode is open, end the open episodes whose statistics are back
    within bounds (or whose model is no longer the one served). A tier without a look
    keeps its episode as it is."""
    if not 0 < false_alarm_rate < 1:
        raise ValueError(f"the false-alarm rate must be in (0, 1), not {false_alarm_rate}")
    tests = [TierTest.of(tier, w) for tier, w in windows.items()]
    open_by_tier = {a.tier: a for a in open_alarms if a.model_id == model_id}
    cleared = [a for a in open_alarms if a.model_id != model_id]
    raised = []
    for test in tests:
        episode = open_by_tier.get(test.tier)
        level = look_level(false_alarm_rate, test.windows.look.number)
        if episode is None and test.fires(level):
            message = test.message(level, now)
            raised.append(DriftAlarm.raise_(workflow_id, model_id, test.tier, message, now))
        elif episode is not None and test.within_bounds():
            cleared.append(episode)
    cleared = [replace(a, cleared_at=now) for a in cleared]
    return DriftCheck(raised, cleared, tests)
