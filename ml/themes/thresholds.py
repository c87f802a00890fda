"""The cut of a numeric field that best tells a theme's items from the contrast, as a
round number: "company_age_years < 2", not "< 1.97"."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ml.themes.settings import ThemeSettings


@dataclass(frozen=True)
class Cut:
    """ "field < threshold" or "field > threshold", and how many items satisfy it."""

    op: str  # "<" or ">"
    threshold: float
    inside: int  # theme items satisfying it
    outside: int  # contrast items satisfying it


def nice_threshold(v: float, direction: str, digits: int) -> float:
    """The number with `digits` significant digits just past v (above for "<",
    below for ">"), so that "x < t" / "x > t" still includes v."""
    magnitude = math.floor(math.log10(abs(v))) if v != 0 else 0
    step = 10.0 ** (magnitude - digits + 1)
    if direction == "<":
        t = math.ceil(v / step) * step
        if t <= v:
            t += step
    else:
        t = math.floor(v / step) * step
        if t >= v:
            t -= step
    return round(t, max(0, digits - magnitude + 1))


def render_number(t: float) -> str:
    """A threshold as people write it: "2", not "2.0"."""
    if float(t).is_integer():
        return str(int(t))
    return f"{t:.6g}"


def best_cut(
    xin: np.ndarray, xout_sorted: np.ndarray, n_out: int, settings: ThemeSettings
) -> Cut | None:
    """The best "<" or ">" cut of one numeric field (the best Youden's J among cuts that
    hold for `min_support` of the theme), at the roundest threshold that does nearly as
    well. xin: the theme's values (NaN missing); xout_sorted: the contrast's present
    values, sorted; n_out: the contrast's size, missing values included."""
    m = len(xin)
    vals = np.sort(xin[~np.isnan(xin)])
    if len(vals) < settings.min_count or n_out == 0:
        return None
    best: tuple[float, str, float] | None = None
    # "<": include every member value <= v
    cand = np.unique(vals)
    sup_lt = np.searchsorted(vals, cand, side="right") / m
    base_lt = np.searchsorted(xout_sorted, cand, side="right") / n_out
    j = np.where(sup_lt >= settings.min_support, sup_lt - base_lt, -np.inf)
    i = int(np.argmax(j))
    if np.isfinite(j[i]):
        best = (float(j[i]), "<", float(cand[i]))
    sup_gt = (len(vals) - np.searchsorted(vals, cand, side="left")) / m
    base_gt = (len(xout_sorted) - np.searchsorted(xout_sorted, cand, side="left")) / n_out
    j = np.where(sup_gt >= settings.min_support, sup_gt - base_gt, -np.inf)
    i = int(np.argmax(j))
    if np.isfinite(j[i]) and (best is None or j[i] > best[0]):
        best = (float(j[i]), ">", float(cand[i]))
    if best is None or best[0] <= 0:
        return None
    j_best, op, v = best

    def satisfying(t: float) -> tuple[int, int]:
        if op == "<":
            a = int(np.searchsorted(vals, t, side="left"))
            b = int(np.searchsorted(xout_sorted, t, side="left"))
        else:
            a = len(vals) - int(np.searchsorted(vals, t, side="right"))
            b = len(xout_sorted) - int(np.searchsorted(xout_sorted, t, side="right"))
        return a, b

    for digits in range(1, 7):
        t = nice_threshold(v, op, digits)
        a, b = satisfying(t)
        support, base = a / m, b / n_out
        if support >= settings.min_support and support - base >= j_best - settings.rounding_slack:
            return Cut(op, t, a, b)
    a, b = satisfying(v + 1e-9 if op == "<" else v - 1e-9)
    return Cut(op, v, a, b)
