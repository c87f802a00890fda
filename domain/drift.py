"""Drift alarms: has people's agreement with the served model, or the calibration of its
confidences, moved since the period after its promotion?

Per workflow and tier, the human decisions on the served model's proposals are split in
two windows: the baseline (the first `window` decisions after its promotion) and the
recent window (the latest `window`, never overlapping the baseline; with fewer than
2 x `window` decisions, each window takes half). A person agreed when they approved the
proposed action. Two tests compare the windows:

- agreement: Fisher's exact test, one-sided (did agreement fall?);
- calibration: the gap between agreement and confidence (mean of agreed - confidence)
  compared by a two-sided Welch z-test (did the confidences come to overstate or
  understate how often people agree?).

The false-alarm rate is stated per check of a workflow whose served model and world are
stable: at most `false_alarm_rate` (default 1%), split by Bonferroni over the tiers
tested and the two statistics (each test runs at rate / (2 x tiers)). Fisher's test is
exact and conservative; the z-test is a normal approximation, which is why a window
needs MIN_WINDOW decisions. Checks repeated as decisions arrive are not independent
of one another and the rate applies to each, not to a run of them.

An alarm opens an episode for its (model, tier): it is raised once, when a test first
fires, and not again until both statistics are back within bounds (p >= CLEAR_P, far
above the firing level so that a p-value wavering at the threshold does not raise a
new alarm on every check); then a later alarm may be raised. An episode of a model no
longer served ends.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from statistics import NormalDist, fmean, variance

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
class TierWindows:
    """The baseline (after the promotion) and the recent window of one tier."""

    baseline: Sequence[ReviewedProposal]
    recent: Sequence[ReviewedProposal]


def split_windows(
    first: Sequence[ReviewedProposal], latest: Sequence[ReviewedProposal], window: int
) -> TierWindows | None:
    """The two windows from the first and the latest `window` decisions after the
    promotion (oldest first each); None when either would hold fewer than MIN_WINDOW.

    When the two lists overlap, they are together every decision since the promotion,
    and each window takes half of them (the baseline at most `window`)."""
    seen = {p.decision_id for p in first}
    if len(first) < window or any(p.decision_id in seen for p in latest):
        everything = list(first) + [p for p in latest if p.decision_id not in seen]
        everything.sort(key=lambda p: p.decided_at)
        cut = min(window, len(everything) // 2)
        baseline = everything[:cut]
        recent = everything[max(cut, len(everything) - window) :]
    else:
        baseline, recent = list(first), list(latest)
    if min(len(baseline), len(recent)) < MIN_WINDOW:
        return None
    return TierWindows(baseline, recent)


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
    spread = variance(before) / len(before) + variance(now) / len(now)
    if spread == 0:
        return 1.0 if difference == 0 else 0.0
    return 2 * (1 - NormalDist().cdf(abs(difference) / math.sqrt(spread)))


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
    """Test each tier with enough decisions; raise an alarm where a test fires and no
    episode is open, end the open episodes whose statistics are back within bounds (or
    whose model is no longer the one served). A tier without enough decisions keeps
    its episode as it is."""
    if not 0 < false_alarm_rate < 1:
        raise ValueError(f"the false-alarm rate must be in (0, 1), not {false_alarm_rate}")
    tests = [TierTest.of(tier, w) for tier, w in windows.items()]
    level = false_alarm_rate / (STATISTICS * len(tests)) if tests else 0.0
    open_by_tier = {a.tier: a for a in open_alarms if a.model_id == model_id}
    cleared = [a for a in open_alarms if a.model_id != model_id]
    raised = []
    for test in tests:
        episode = open_by_tier.get(test.tier)
        if episode is None and test.fires(level):
            message = test.message(level, now)
            raised.append(DriftAlarm.raise_(workflow_id, model_id, test.tier, message, now))
        elif episode is not None and test.within_bounds():
            cleared.append(episode)
    cleared = [replace(a, cleared_at=now) for a in cleared]
    return DriftCheck(raised, cleared, tests)
