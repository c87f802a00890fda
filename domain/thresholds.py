"""Thresholds with a guarantee: the lowest autoApproveAt whose auto-approvals are wrong at
most `max_error` of the time, with probability at least `confidence_level`.

Procedure: Learn-then-Test (Angelopoulos et al., 2021) with fixed-sequence testing.
Each candidate threshold t (CANDIDATES, 0.99 down to 0.01) carries the null hypothesis
H0_t: "items with confidence >= t are wrong more than max_error of the time". They are
tested in a fixed order, from the highest down, each at the full level
delta = 1 - confidence_level; the sequence stops at the first H0_t not rejected.
Fixed-sequence testing controls the family-wise error at delta: a wrong recommendation
needs the first true null of the sequence to be rejected, which happens with
probability at most delta, so any rejected t is safe. The recommendation is the lowest
rejected t at which items were seen (a lower one holding the same items is rejected as
well, but nothing in the window speaks for it), or None when the first is not rejected.

The order may depend on anything but the labels' verdicts. Candidates whose region is
too thin to pass (it would fail even with errors at half the target rate in each
stratum: a function of counts only) are left out of the sequence rather than stopping
it, so that a handful of labels at 0.99 does not end the search.

What a label is. An item's label is its latest human decision among APPROVE, REJECT,
OVERRIDE, EDIT and REQUEST_MORE_DATA that was not undone. APPROVE is right: the person
did what auto-approval would have done. REJECT, OVERRIDE and EDIT are wrong: auto-
approval would have executed a proposal a person refused, replaced or changed.
REQUEST_MORE_DATA by a person is wrong too: they would not approve it on the data the
model saw (a later final decision on the same item replaces it). FLAG is no label (it
defers the call; the item's later decision is its label) and UNDO is not a call.
Automated decisions are never labels: they are the ladder acting on the model's word.

The strata. Labels are unbiased only for the items they were drawn from:
- REVIEWED: items the ladder sent to people (below the auto-approve threshold when
  routed, not sampled): a person decides every one (those still waiting are missing
  at random, by arrival time, not by verdict).
- AUDITED: items the ladder would have auto-approved: auto-approved ones and the audit
  sample (a fraction auditSampleRate drawn at random at submission) that people
  decided instead. Only the sample is labelled, a random sample of the stratum.
- UNREVIEWED: items the ladder rejected or sent back below the floor: no person looked.
High-stakes items (stakes >= highStakesAt) are left out: they are never auto-approved.

The region [t, 1] of a candidate below the current threshold mixes a fully labelled
stratum with a sampled one: pooling its labels into one binomial would weigh the
audited stratum by its sample's size instead of its share of the items, and would be
biased whenever the strata's error rates differ (they do: confidences differ). So the
region's error rate is written as the item-weighted mixture
    error(t) = sum_j (N_j / N) * p_j         (N_j items of stratum j in the region)
and bounded by the same mixture of per-stratum exact (Clopper-Pearson) upper bounds,
each at level delta / m for the m labelled strata present (Bonferroni), with 1 for the
unreviewed stratum. With probability >= 1 - delta every stratum's bound holds at once,
so the mixture bounds error(t): the test "bound <= max_error" is a valid level-delta
test of H0_t. For a region of one stratum it is exactly the binomial test
P(Binomial(n, max_error) <= errors) <= delta. The strata's shares N_j / N are taken as
known: they are counts of items, not labels, and are many times larger.

errorUpperBound is that bound at the recommended threshold, computed as if the
threshold had been fixed in advance; the guarantee that holds for the threshold the
procedure chose is max_error (which the bound never exceeds).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from domain.binomial import upper_bound
from domain.enums import Role, Verdict
from domain.errors import ForbiddenError, InvalidInputError

CANDIDATES: tuple[float, ...] = tuple(i / 100 for i in range(99, 0, -1))
"""The thresholds tested, highest first (the fixed sequence)."""

LABEL_VERDICTS = frozenset(
    {Verdict.APPROVE, Verdict.REJECT, Verdict.OVERRIDE, Verdict.EDIT, Verdict.REQUEST_MORE_DATA}
)
"""Human verdicts that label an item (see the module's notes); only APPROVE is right."""

MAX_EXTRA_LABELS = 1_000_000  # beyond this, "more evidence" is no answer
SCREEN_RATE = 0.5  # see `Region.plausible`


class Stratum(StrEnum):
    """How the ladder handled an item, which decides how its label was drawn."""

    REVIEWED = "REVIEWED"
    AUDITED = "AUDITED"
    UNREVIEWED = "UNREVIEWED"


@dataclass(frozen=True)
class Bucket:
    """The items of one stratum whose confidence falls in [at, the next candidate above),
    with how many are labelled and how many of those were wrong."""

    stratum: Stratum
    at: float
    items: int
    labelled: int = 0
    wrong: int = 0


@dataclass(frozen=True)
class ThresholdEvidence:
    """What the window holds about the model that proposes now."""

    buckets: tuple[Bucket, ...]
    total_items: int  # the window's items of this model, high stakes included
    model_version: str | None
    current_threshold: float
    audit_sample_rate: float


@dataclass(frozen=True)
class ThresholdRecommendation:
    max_error: float
    confidence_level: float
    auto_approve_at: float | None
    error_upper_bound: float | None
    evidence: int
    expected_auto_approve_share: float | None
    message: str


@dataclass(frozen=True)
class _Part:
    items: int = 0
    labelled: int = 0
    wrong: int = 0


@dataclass(frozen=True)
class Region:
    """The items with confidence >= `at`, by stratum."""

    at: float
    parts: dict[Stratum, _Part]

    @property
    def items(self) -> int:
        return sum(p.items for p in self.parts.values())

    @property
    def labelled(self) -> int:
        return sum(p.labelled for s, p in self.parts.items() if s is not Stratum.UNREVIEWED)

    def bound(self, delta: float, wrong: dict[Stratum, int] | None = None) -> float:
        """The item-weighted mixture of per-stratum upper bounds (see the module's notes);
        `wrong` replaces the observed errors (the zero-error screen, projections)."""
        total = self.items
        if total == 0:
            return 1.0
        labelled = [s for s, p in self.parts.items() if p.items and s is not Stratum.UNREVIEWED]
        share = delta / max(len(labelled), 1)
        bound = 0.0
        for stratum, part in self.parts.items():
            if not part.items:
                continue
            if stratum is Stratum.UNREVIEWED:
                upper = 1.0
            else:
                errors = part.wrong if wrong is None else wrong.get(stratum, 0)
                upper = upper_bound(errors, part.labelled, share)
            bound += part.items / total * upper
        return min(bound, 1.0)

    def plausible(self, max_error: float) -> dict[Stratum, int]:
        """Errors at half the target rate in every labelled stratum: the screen a region
        must pass to enter the sequence (a function of counts, never of verdicts)."""
        return {s: math.floor(SCREEN_RATE * max_error * p.labelled) for s, p in self.parts.items()}

    def observed_rate(self, stratum: Stratum) -> float:
        part = self.parts.get(stratum, _Part())
        return part.wrong / part.labelled if part.labelled else 0.0


def require_rights(role: Role) -> None:
    """Who may ask for a recommendation: those who may simulate a policy."""
    if role not in (Role.SENIOR, Role.ADMIN):
        raise ForbiddenError(
            f"recommending a threshold needs the role SENIOR or ADMIN; you are {role.value}"
        )


def validate_targets(max_error: float, confidence_level: float) -> None:
    """Raise InvalidInputError unless 0 < max_error < 1 and 0.5 < confidence_level < 1."""
    if not (math.isfinite(max_error) and 0.0 < max_error < 1.0):
        raise InvalidInputError(
            "maxAutoApproveError must be between 0 and 1 (exclusive), e.g. 0.02 for 2%",
            "maxAutoApproveError",
        )
    if not (math.isfinite(confidence_level) and 0.5 < confidence_level < 1.0):
        raise InvalidInputError(
            "confidenceLevel must be between 0.5 and 1 (exclusive), e.g. 0.95",
            "confidenceLevel",
        )


def bucket_of(confidence: float, candidates: Sequence[float] = CANDIDATES) -> float:
    """The lower edge of the bucket a confidence falls in: the highest candidate at or
    below it, or 0.0 below them all."""
    return next((c for c in candidates if confidence >= c), 0.0)


# ------------------------------------------------------------------ the procedure


def regions(buckets: Iterable[Bucket], candidates: Sequence[float] = CANDIDATES) -> list[Region]:
    """The region [t, 1] of every candidate t, highest first (cumulative over buckets)."""
    by_edge: dict[float, list[Bucket]] = {}
    for bucket in buckets:
        by_edge.setdefault(bucket.at, []).append(bucket)
    running = {s: _Part() for s in Stratum}
    found: list[Region] = []
    for at in sorted(candidates, reverse=True):
        for bucket in by_edge.get(at, []):
            part = running[bucket.stratum]
            running[bucket.stratum] = _Part(
                part.items + bucket.items,
                part.labelled + bucket.labelled,
                part.wrong + bucket.wrong,
            )
        found.append(Region(at, dict(running)))
    return found


def recommend(
    evidence: ThresholdEvidence,
    max_error: float,
    confidence_level: float,
    candidates: Sequence[float] = CANDIDATES,
) -> ThresholdRecommendation:
    """Learn-then-Test with fixed-sequence testing from the highest candidate down."""
    validate_targets(max_error, confidence_level)
    delta = 1.0 - confidence_level
    every = regions(evidence.buckets, candidates)
    chosen: tuple[Region, float] | None = None
    for region in every:  # the sequence, its members picked as it goes (the same ones)
        if not _in_sequence(region, max_error, delta):
            continue
        bound = region.bound(delta)
        if bound > max_error:
            break
        if chosen is None or region.items > chosen[0].items:  # not below the lowest seen
            chosen = (region, bound)
    labels = every[-1].labelled if every else 0
    if chosen is None:
        return ThresholdRecommendation(
            max_error,
            confidence_level,
            None,
            None,
            labels,
            None,
            _why_none(evidence, every, labels, max_error, delta),
        )
    region, bound = chosen
    share = region.items / evidence.total_items if evidence.total_items else None
    return ThresholdRecommendation(
        max_error,
        confidence_level,
        region.at,
        bound,
        region.labelled,
        share,
        _recommended(evidence, region, bound, share, max_error, confidence_level),
    )


def _in_sequence(region: Region, max_error: float, delta: float) -> bool:
    """Whether the region is tested: it has items, and would pass with errors at half
    the target rate (SCREEN_RATE), so that regions too thin to pass do not stop the
    sequence. A function of counts only, never of verdicts, as fixed-sequence testing
    requires; the zero-error bound is checked first because it is cheap."""
    if not region.items or region.bound(delta, {}) > max_error:
        return False
    return region.bound(delta, region.plausible(max_error)) <= max_error


def extra_labels_needed(region: Region, max_error: float, delta: float) -> tuple[Stratum, int]:
    """About how many more labels the region needs to pass, if its strata's observed
    error rates held: in the audited stratum when it has items (reviewed items are all
    labelled already), else the reviewed one. MAX_EXTRA_LABELS + 1 when none would do."""
    grow = Stratum.AUDITED if region.parts[Stratum.AUDITED].items else Stratum.REVIEWED
    rates = {s: region.observed_rate(s) for s in Stratum}
    part = region.parts[grow]

    def passes(extra: int) -> bool:
        n = part.labelled + extra
        parts = {**region.parts, grow: _Part(part.items, n, 0)}
        wrong = {s: round(rates[s] * p.labelled) for s, p in parts.items()}
        return Region(region.at, parts).bound(delta, wrong) <= max_error

    high = 1
    while not passes(high):
        high *= 2
        if high > MAX_EXTRA_LABELS:
            return grow, MAX_EXTRA_LABELS + 1
    low = high // 2  # passes(low) is false or low == 0
    while high - low > 1:
        middle = (low + high) // 2
        if passes(middle):
            high = middle
        else:
            low = middle
    return grow, high


# ------------------------------------------------------------------ in words


def _model(evidence: ThresholdEvidence) -> str:
    if evidence.model_version is None:
        return "the proposals submitted without a modelVersion"
    return f"model {evidence.model_version}"


def _recommended(
    evidence: ThresholdEvidence,
    region: Region,
    bound: float,
    share: float | None,
    max_error: float,
    confidence_level: float,
) -> str:
    at = f"{region.at:.2f}"
    words = (
        f"Auto-approve at {at} or above: with {confidence_level:.0%} confidence, at most "
        f"{bound:.1%} of those items are wrong (target {max_error:.1%}), from "
        f"{region.labelled} human-labelled items of {_model(evidence)} (Learn-then-Test, "
        "exact binomial bounds)."
    )
    if share is not None:
        words += f" About {share:.0%} of the window's items would be auto-approved."
    if region.at != evidence.current_threshold:
        words += f" The current threshold is {evidence.current_threshold:.2f}."
    return words


def _worth_quoting(at: float, evidence: ThresholdEvidence) -> bool:
    """Thresholds a "need more" estimate may name: round ones (every 0.05) and the current."""
    return round(at * 100) % 5 == 0 or math.isclose(at, evidence.current_threshold)


def _why_none(
    evidence: ThresholdEvidence,
    every: list[Region],
    labels: int,
    max_error: float,
    delta: float,
) -> str:
    if labels == 0:
        return (
            f"No threshold can be guaranteed: no person has decided a proposal of "
            f"{_model(evidence)} in the window yet, and a model's confidences say nothing "
            "about another's, so a newly promoted model starts without evidence. Review "
            "its proposals (or audit-sample its auto-approvals) first."
        )
    best: tuple[int, float, Stratum] | None = None
    for region in every:
        if not region.items or not region.labelled or not _worth_quoting(region.at, evidence):
            continue
        rate = sum(
            p.items / region.items * (1.0 if s is Stratum.UNREVIEWED else region.observed_rate(s))
            for s, p in region.parts.items()
        )
        if rate >= max_error:
            continue
        stratum, extra = extra_labels_needed(region, max_error, delta)
        if extra <= MAX_EXTRA_LABELS and (best is None or extra < best[0]):
            best = (extra, region.at, stratum)
    start = (
        f"No threshold can be guaranteed at {1 - delta:.0%} confidence for an error of at "
        f"most {max_error:.1%} from the {labels} human-labelled items of {_model(evidence)}"
    )
    if best is None:
        return (
            f"{start}: wherever there are labels, people corrected the proposals at least "
            f"{max_error:.1%} of the time, so more evidence alone would not do."
        )
    extra, at, stratum = best
    if stratum is Stratum.AUDITED:
        need = f"need about {extra} more audit samples above {at:.2f}"
        if evidence.audit_sample_rate == 0:
            need += " (auditSampleRate is 0: raise it to collect them)"
    else:
        need = f"need about {extra} more reviewed items above {at:.2f}"
    return f"{start}: {need}, if their error rate stays as observed."
