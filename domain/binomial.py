"""Exact binomial tails and the Clopper-Pearson bound on a rate, standard library only."""

from __future__ import annotations

import math

SUMMED_TERMS = 40  # tails up to this many successes are summed term by term


def binomial_cdf(k: int, n: int, p: float) -> float:
    """P(Binomial(n, p) <= k), exactly: the sum of its terms for small k, else the
    regularized incomplete beta function I_{1-p}(n - k, k + 1) it equals (by its
    continued fraction, accurate to about 1e-13), so that large n stay fast."""
    if k < 0:
        return 0.0
    if k >= n or p <= 0.0:
        return 1.0
    if p >= 1.0:
        return 0.0
    if k <= SUMMED_TERMS:
        ratio = math.log(p) - math.log1p(-p)
        log_term = n * math.log1p(-p)  # i = 0
        terms = [log_term]
        for i in range(k):
            log_term += math.log((n - i) / (i + 1)) + ratio
            terms.append(log_term)
        top = max(terms)
        return min(1.0, math.exp(top) * math.fsum(math.exp(t - top) for t in terms))
    return _regularized_beta(n - k, k + 1, 1.0 - p)


def _regularized_beta(a: float, b: float, x: float) -> float:
    """I_x(a, b) (Numerical Recipes' betai, Lentz's continued fraction)."""
    front = math.exp(
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1) / (a + b + 2):
        return front * _beta_fraction(a, b, x) / a
    return 1.0 - front * _beta_fraction(b, a, 1.0 - x) / b


def _beta_fraction(a: float, b: float, x: float) -> float:
    tiny, eps = 1e-300, 1e-15
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 100_000):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < eps:
            break
    return h


def upper_bound(errors: int, n: int, delta: float) -> float:
    """The exact (Clopper-Pearson) one-sided upper confidence bound at level delta on a
    rate after `errors` in `n` trials: the largest p with P(Binomial(n, p) <= errors) >=
    delta. 1 without trials."""
    if n <= 0 or errors >= n:
        return 1.0
    if errors <= 0:
        return 1.0 - math.pow(delta, 1.0 / n)
    low, high = errors / n, 1.0
    for _ in range(40):  # the cdf falls as p grows; 2**-40 is far below what is shown
        middle = (low + high) / 2
        if binomial_cdf(errors, n, middle) > delta:
            low = middle
        else:
            high = middle
    return high
