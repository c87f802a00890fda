"""Generated worlds with planted rules, for tests, the demo and benchmarks.

A world is a stream of loan-like cases. Each has a payload, the action a
careful human would take (`true_action`, the decision rule plus ~3% label
noise), and the proposal of an "upstream model" that knows the rule except
one planted condition (RULES): on the planted cases it confidently proposes
"approve" where the human declines. Every case where the human overrides the
upstream proposal carries a reason, phrased many different ways for the
planted concern (`concern` names the rule) and unrelated for noise overrides
(`concern` is None).

The rule every world shares (BASE_RULE):
    decline if debt_ratio > 0.9, or revenue < 150000 without collateral
    (has_collateral not true); in the three-action variant, otherwise "refer"
    if loan.amount > 750000; otherwise approve.
A missing value never satisfies a condition, except where a rule says "not true".

Each case knows the rule's own action (`bayes_action`): the human takes it with probability
1 - noise, so the Bayes-optimal accuracy is 1 - noise and `expected_accuracy` gives any
decision rule's accuracy from the generator's probabilities.

Deterministic: the same (n, seed, rule, three_actions) gives the same cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ml.classifier import TrainingExample

APPROVE, DECLINE, REFER = "approve", "decline", "refer"
ACTIONS = (APPROVE, DECLINE)
ACTIONS_THREE = (APPROVE, DECLINE, REFER)
INDUSTRIES = ("healthcare", "retail", "software", "manufacturing", "construction", "hospitality")
INDUSTRY_WEIGHTS = (0.3, 0.3, 0.1, 0.1, 0.1, 0.1)
REGIONS = ("north", "south", "east", "west", "international")
REGION_WEIGHTS = (0.2, 0.15, 0.15, 0.2, 0.3)
TAGS = ("repeat_customer", "referred", "online", "priority")
START = datetime(2025, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=180)
NOISE = 0.03

BASE_RULE = (
    "decline if debt_ratio > 0.9 or (revenue < 150000 and has_collateral is not true); "
    "three-action worlds: else refer if loan.amount > 750000; else approve"
)


@dataclass(frozen=True)
class RuleInfo:
    description: str
    fields: tuple[str, ...]
    condition: str
    action: str = DECLINE
    label: str = ""


RULES: dict[str, RuleInfo] = {
    "young_healthcare": RuleInfo(
        description="healthcare companies younger than two years are declined",
        fields=("industry", "company_age_years"),
        condition='industry == "healthcare" and company_age_years < 2',
        label="young healthcare companies",
    ),
    "high_debt_retail": RuleInfo(
        description="retailers with a debt ratio above 0.6 are declined",
        fields=("industry", "debt_ratio"),
        condition='industry == "retail" and debt_ratio > 0.6',
        label="indebted retailers",
    ),
    "foreign_unverified": RuleInfo(
        description="international applicants without a verified identity are declined",
        fields=("region", "identity_verified"),
        condition='region == "international" and identity_verified is not true',
        label="unverified international applicants",
    ),
}


@dataclass
class WorldCase:
    payload: dict[str, Any]
    true_action: str
    upstream_action: str
    upstream_confidence: float
    reason: str | None
    created_at: datetime
    concern: str | None = None  # the planted rule's key, for overrides it caused
    planted: bool = False  # the planted condition holds for this case (override or not)
    # The rule's action, before label noise: the Bayes rule (the human takes it with
    # probability 1 - noise, each other action with noise / (actions - 1)).
    bayes_action: str = ""


# Many phrasings of the same concern; {age}, {months}, {debt}, {pct} are filled in.
CONCERN_REASONS: dict[str, tuple[str, ...]] = {
    "young_healthcare": (
        "too young",
        "founded {age} years ago",
        "under two years old",
        "less than 2 years of history",
        "new clinic, no track record",
        "only {months} months in business",
        "company is too new",
        "practice opened {months} months ago, not enough history",
        "healthcare startup without operating history",
        "not enough trading history for a medical practice",
        "brand new practice",
        "young company in healthcare, wait until 24 months",
        "insufficient time in business ({age} yrs)",
        "started recently, too early to lend",
        "we don't fund clinics younger than two years",
        "clinic has been open for {months} months only",
        "too early in the life of the practice",
        "no history: incorporated {age} years ago",
    ),
    "high_debt_retail": (
        "debt ratio {debt} too high for retail",
        "too much leverage",
        "over-leveraged store",
        "retailer carrying too much debt",
        "debt is {pct}% of assets",
        "high debt for a shop with thin margins",
        "leverage above what we accept in retail",
        "existing borrowing too heavy",
        "can't service more debt",
        "debt-to-assets over 60%",
        "heavily indebted retailer",
        "retail margins won't cover the debt",
        "already owes too much ({pct}% debt ratio)",
        "balance sheet too stretched for a retailer",
    ),
    "foreign_unverified": (
        "identity not verified",
        "could not verify the owner abroad",
        "KYC incomplete for overseas applicant",
        "foreign applicant, no verified ID",
        "unverified international business",
        "no identity check on file for a non-domestic company",
        "ID documents missing, applicant based abroad",
        "overseas company failed verification",
        "can't confirm who the owner is",
        "international, KYC not passed",
        "know-your-customer check outstanding",
        "passport not verified",
        "cross-border applicant with unconfirmed identity",
    ),
}

NOISE_REASONS: dict[str, tuple[str, ...]] = {
    DECLINE: (
        "bank statements inconsistent",
        "director appears on a watchlist",
        "duplicate application",
        "applicant withdrew",
        "references did not check out",
        "suspected fraud",
        "customer asked us to cancel",
        "pending lawsuit found in search",
    ),
    APPROVE: (
        "long-standing customer, known to the branch",
        "collateral confirmed by phone",
        "manager vouched for the owner",
        "recent audited accounts look fine",
        "strong cash flow in latest statements",
        "guarantor added",
    ),
    REFER: (
        "needs a second opinion",
        "unusual structure, send to credit committee",
        "large exposure, escalate",
    ),
}

_PREFIXES = ("", "", "", "Decline: ", "declined - ", "No. ", "Reason: ")
_SUFFIXES = ("", "", ".", " per policy", " (see notes)", "!")


def generate_world(
    n: int,
    seed: int,
    rule: str = "young_healthcare",
    *,
    three_actions: bool = False,
    noise: float = NOISE,
    start: datetime = START,
) -> list[WorldCase]:
    """n cases in created_at order (spread over 180 days from `start`)."""
    if rule not in RULES:
        raise ValueError(f"unknown rule {rule!r}; known: {', '.join(RULES)}")
    rng = np.random.default_rng(seed)

    industry = rng.choice(len(INDUSTRIES), size=n, p=INDUSTRY_WEIGHTS)
    region = rng.choice(len(REGIONS), size=n, p=REGION_WEIGHTS)
    young = rng.random(n) < 0.35
    age = np.where(young, rng.uniform(0.0, 2.0, n), rng.uniform(2.0, 20.0, n)).round(1)
    age_missing = rng.random(n) < 0.02
    revenue = np.exp(rng.normal(np.log(500_000), 1.2, n)).round(0)
    revenue_missing = rng.random(n) < 0.03
    employees = np.maximum(1, revenue / 100_000 * np.exp(rng.normal(0, 0.5, n))).astype(np.int64)
    debt = (rng.beta(2.0, 3.0, n) * 1.5).round(3)
    debt_missing = rng.random(n) < 0.02
    collateral = rng.random(n) < 0.5
    collateral_missing = rng.random(n) < 0.05
    verified = rng.random(n) < 0.65
    verified_missing = rng.random(n) < 0.03
    amount = (revenue * rng.uniform(0.05, 0.6, n)).round(-2)
    term = rng.choice(np.array([12, 24, 36, 48, 60]), size=n)
    owner_age = rng.integers(22, 76, n)
    owner_age_missing = rng.random(n) < 0.05
    owner_years = np.minimum(owner_age - 18, rng.gamma(2.0, 5.0, n)).round(1)
    tag_count = rng.choice(3, size=n, p=(0.5, 0.35, 0.15))
    tag_pick = rng.integers(0, len(TAGS), (n, 2))

    # The rule, on known values (a missing value satisfies no condition).
    low_revenue = ~revenue_missing & (revenue < 150_000)
    collateral_true = collateral & ~collateral_missing
    base_decline = (~debt_missing & (debt > 0.9)) | (low_revenue & ~collateral_true)
    if rule == "young_healthcare":
        planted = (industry == INDUSTRIES.index("healthcare")) & ~age_missing & (age < 2.0)
    elif rule == "high_debt_retail":
        planted = (industry == INDUSTRIES.index("retail")) & ~debt_missing & (debt > 0.6)
    else:
        verified_true = verified & ~verified_missing
        planted = (region == REGIONS.index("international")) & ~verified_true
    big = ~revenue_missing & (amount > 750_000) if three_actions else np.zeros(n, dtype=bool)
    actions = ACTIONS_THREE if three_actions else ACTIONS
    code = {a: i for i, a in enumerate(actions)}
    upstream = np.full(n, code[APPROVE])
    upstream[big] = code[REFER] if three_actions else code[APPROVE]
    upstream[base_decline] = code[DECLINE]
    rule_action = upstream.copy()
    rule_action[planted] = code[DECLINE]

    flip = rng.random(n) < noise
    shift = rng.integers(1, len(actions), n)
    human = np.where(flip, (rule_action + shift) % len(actions), rule_action)

    missed = planted & (upstream != rule_action)
    confidence = np.where(
        missed, rng.uniform(0.9, 0.99, n), 0.72 + 0.27 * rng.beta(5.0, 2.0, n)
    ).round(3)

    gaps = np.sort(rng.uniform(0.0, 1.0, n)) * SPAN.total_seconds()
    template_pick = rng.integers(0, 1 << 30, (n, 3))

    cases: list[WorldCase] = []
    age_l, rev_l, debt_l, amt_l = age.tolist(), revenue.tolist(), debt.tolist(), amount.tolist()
    for i in range(n):
        owner: dict[str, Any] = {
            "age": None if owner_age_missing[i] else int(owner_age[i]),
            "years_in_industry": float(owner_years[i]),
        }
        payload: dict[str, Any] = {
            "industry": INDUSTRIES[industry[i]],
            "region": REGIONS[region[i]],
            "company_age_years": None if age_missing[i] else age_l[i],
            "employees": int(employees[i]),
            "debt_ratio": None if debt_missing[i] else debt_l[i],
            "has_collateral": None if collateral_missing[i] else bool(collateral[i]),
            "identity_verified": None if verified_missing[i] else bool(verified[i]),
            "loan": {"amount": amt_l[i], "term_months": int(term[i])},
            "owner": owner,
            "tags": sorted({TAGS[t] for t in tag_pick[i, : tag_count[i]]}),
        }
        if not revenue_missing[i]:
            payload["revenue"] = rev_l[i]
        true_action = actions[human[i]]
        upstream_action = actions[upstream[i]]
        reason: str | None = None
        concern: str | None = None
        if true_action != upstream_action:
            picks = template_pick[i]
            if missed[i] and not flip[i]:
                concern = rule
                templates = CONCERN_REASONS[rule]
            else:
                templates = NOISE_REASONS[true_action]
            text = templates[picks[0] % len(templates)].format(
                age=age_l[i],
                months=max(1, round(age_l[i] * 12)),
                debt=debt_l[i],
                pct=round(debt_l[i] * 100),
            )
            if concern is not None:
                text = _PREFIXES[picks[1] % len(_PREFIXES)] + text
                if picks[2] % 4 == 0:
                    text = text.lower()
            reason = text + _SUFFIXES[picks[2] % len(_SUFFIXES)]
        cases.append(
            WorldCase(
                payload=payload,
                true_action=true_action,
                upstream_action=upstream_action,
                upstream_confidence=float(confidence[i]),
                reason=reason,
                created_at=start + timedelta(seconds=float(gaps[i])),
                concern=concern,
                planted=bool(planted[i]),
                bayes_action=actions[rule_action[i]],
            )
        )
    return cases


def expected_accuracy(
    cases: list[WorldCase], actions: list[str], *, noise: float = NOISE, n_actions: int = 2
) -> float:
    """The mean probability that the human takes `actions[i]` on cases[i], from the
    generator: 1 - noise for the rule's action, noise / (n_actions - 1) for any other."""
    if len(cases) != len(actions):
        raise ValueError("one action per case")
    hit = np.array([a == c.bayes_action for a, c in zip(actions, cases, strict=True)])
    return float(np.where(hit, 1.0 - noise, noise / (n_actions - 1)).mean())


def training_examples(cases: list[WorldCase]) -> list[TrainingExample]:
    """The humans' decisions on these cases, as the retraining job would load them."""
    from ml.classifier import TrainingExample

    return [
        TrainingExample(
            payload=c.payload,
            label=c.true_action,
            decided_at=c.created_at,
            proposed_action=c.upstream_action,
        )
        for c in cases
    ]
