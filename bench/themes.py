"""Benchmark: theme mining (ml.themes.mine_themes) on 10k and 100k override reasons.

A generated window: four planted concerns tied to payload conditions (young
healthcare companies 45%, indebted retailers 20%, unverified foreign
applicants 15%, a random-payload "seasonality" concern 8%), each phrased
many ways with names, numbers, prefixes, suffixes and filler words, so most
reasons are distinct strings; 12% unrelated one-off reasons made of random
pseudo-words (every one distinct). The contrast is 20,000 other decided
payloads (the job's CONTRAST_LIMIT). The "all distinct" variant appends a
customer reference drawn from 5,000 pseudo-words twice to every reason, so
(nearly) no two reasons are equal and the vocabulary is large and noisy.

Each size runs in its own child process, so that its peak memory is its own:
wall time of the mine_themes call, peak traced Python/NumPy allocation during
a second, identical call under tracemalloc (timing under tracemalloc would mostly
measure tracemalloc; before this split the seconds included it) and the child's
peak resident set size (ru_maxrss, which includes the interpreter, the libraries
and the generated input). A child
that takes longer than --timeout seconds is stopped.

    .venv/bin/python bench/themes.py [--sizes 10000 100000] [--distinct-sizes 100000]
                                     [--timeout 900] [--repeat 3] [--baseline DIR]

The summary has, per size and variant, the median over --repeat runs and its ratio to
the median of a baseline checkout run interleaved with it (--baseline DIR), or else of
the results file it replaces (the previous recorded run; "previous_seconds").

Results: a table on stdout and bench/results/themes.json.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import platform
import resource
import sys
import time
import tracemalloc
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "themes.json"
OTHERS = 20_000
SEED = 7

INDUSTRIES = ("healthcare", "retail", "software", "manufacturing", "logistics", "hospitality")
FOREIGN = ("CA", "MX", "DE", "IN", "BR", "NG", "FR")
NAMES = (
    "Acme",
    "Birch",
    "Cobalt",
    "Delta",
    "Evergreen",
    "Fulton",
    "Granite",
    "Harbor",
    "Iris",
    "Juniper",
)
PREFIXES = ("", "", "", "Decline: ", "declined - ", "No. ", "Reason: ", "imo ", "per review, ")
SUFFIXES = (
    "",
    "",
    ".",
    " per policy",
    " (see notes)",
    "!",
    " - checked twice",
    " as discussed",
    " again",
)
FILLERS = ("", "", "", "honestly ", "clearly ", "frankly ", "obviously ", "really ")
SHARES = {
    "young_healthcare": 0.45,
    "high_debt_retail": 0.20,
    "unverified_foreign": 0.15,
    "seasonal": 0.08,
}
PHRASINGS: dict[str, tuple[str, ...]] = {
    "young_healthcare": (
        "{f}too young",
        "{name} is {f}too young for this",
        "founded {age} years ago",
        "{f}under two years old",
        "less than 2 years of history",
        "only {months} months in business",
        "brand new clinic, no track record",
        "practice opened {months} months ago",
        "startup, barely a year old",
        "not enough operating history",
        "incorporated {age} yrs ago, wait",
        "medical practice is {f}too new",
    ),
    "high_debt_retail": (
        "debt {f}too high",
        "debt ratio {debt} is excessive",
        "over-leveraged store",
        "{name} carries {f}too much debt",
        "heavily indebted retailer",
        "leverage above what we accept",
        "can't service more borrowing",
        "liabilities are {pct}% of assets",
        "balance sheet {f}too stretched",
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
        "model {f}ignores seasonality",
        "seasonal business, december spike not considered",
        "seasonal revenue pattern missed",
    ),
}
PROPOSED = {
    "young_healthcare": ("approve", "decline"),
    "high_debt_retail": ("refer", "decline"),
    "unverified_foreign": ("approve", "refer"),
    "seasonal": ("decline", "approve"),
}
SYLLABLES = (
    "ka",
    "lo",
    "mi",
    "ne",
    "ru",
    "ta",
    "vo",
    "zi",
    "pe",
    "su",
    "gra",
    "tho",
    "bi",
    "dex",
    "fu",
)


def _base(rng: Any) -> dict[str, Any]:
    foreign = rng.random() < 0.3
    return {
        "industry": INDUSTRIES[int(rng.integers(len(INDUSTRIES)))],
        "company_age_years": round(float(rng.uniform(0.3, 30.0)), 1),
        "debt_ratio": round(float(rng.beta(2.0, 3.0)), 3),
        "annual_revenue": int(rng.lognormal(13.0, 1.0)),
        "employees": int(rng.integers(1, 400)),
        "requested_amount": int(rng.integers(10, 500)) * 1000,
        "channel": ("branch", "online", "broker")[int(rng.integers(3))],
        "applicant": {
            "country": FOREIGN[int(rng.integers(len(FOREIGN)))] if foreign else "US",
            "identity_verified": bool(rng.random() < 0.8),
        },
    }


def _concern_payload(concern: str, rng: Any) -> dict[str, Any]:
    p = _base(rng)
    if concern == "young_healthcare":
        p["industry"] = "healthcare"
        p["company_age_years"] = round(float(rng.uniform(0.2, 1.95)), 1)
    elif concern == "high_debt_retail":
        p["industry"] = "retail"
        p["debt_ratio"] = round(float(rng.uniform(0.82, 1.3)), 3)
    elif concern == "unverified_foreign":
        p["applicant"] = {
            "country": FOREIGN[int(rng.integers(len(FOREIGN)))],
            "identity_verified": False,
        }
    return p


def _pick(rng: Any, options: tuple[str, ...]) -> str:
    return options[int(rng.integers(len(options)))]


def generate(
    n: int, seed: int = SEED, distinct: bool = False
) -> tuple[list[Any], list[str | None], list[dict[str, Any]]]:
    import numpy as np

    from ml.themes import OverrideSample

    rng = np.random.default_rng(seed)
    labels: list[str | None] = []
    for name, share in SHARES.items():
        labels += [name] * round(share * n)
    labels += [None] * (n - len(labels))
    labels = [labels[int(i)] for i in rng.permutation(n)]
    customers = tuple("".join(_pick(rng, SYLLABLES) for _ in range(4)) for _ in range(5000))
    overrides = []
    for concern in labels:
        if concern is None:
            payload = _base(rng)
            words = [
                "".join(_pick(rng, SYLLABLES) for _ in range(3))
                for _ in range(int(rng.integers(2, 6)))
            ]
            reason = " ".join(words)
            proposed, chosen = ("approve", "decline", "refer")[int(rng.integers(3))], "refer"
        else:
            payload = _concern_payload(concern, rng)
            age = payload["company_age_years"]
            text = _pick(rng, PHRASINGS[concern]).format(
                f=_pick(rng, FILLERS),
                name=_pick(rng, NAMES),
                age=age,
                months=max(1, round(age * 12)),
                debt=payload["debt_ratio"],
                pct=round(payload["debt_ratio"] * 100),
            )
            reason = f"{_pick(rng, PREFIXES)}{text}{_pick(rng, SUFFIXES)}"
            proposed, chosen = PROPOSED[concern]
        if distinct:  # a customer reference from a large pool: (nearly) every reason unique
            reason += " cust " + " ".join(_pick(rng, customers) for _ in range(2))
        overrides.append(OverrideSample(reason, proposed, chosen, payload))
    others = [_base(rng) for _ in range(OTHERS)]
    return overrides, labels, others


def _run(n: int, distinct: bool, out: Any, root: str = str(ROOT)) -> None:
    sys.path.insert(0, root)
    from ml.themes import mine_themes

    overrides, labels, others = generate(n, distinct=distinct)
    unique = len({o.reason for o in overrides})
    model_features = {"annual_revenue", "employees", "requested_amount", "channel"}
    # Timed without tracemalloc (which slows every Python allocation several-fold and
    # would mostly time itself), then mined again under tracemalloc for the peak.
    t0 = time.perf_counter()
    themes = mine_themes(overrides, others, model_features)
    seconds = time.perf_counter() - t0
    tracemalloc.start()
    traced = mine_themes(overrides, others, model_features)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    if [t.members for t in traced] != [t.members for t in themes]:
        raise RuntimeError("theme mining gave different themes on the same input")
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    summary = []
    for t in themes:
        concern, k = Counter(labels[i] for i in t.members).most_common(1)[0]
        summary.append(
            {
                "label": t.label,
                "share": round(t.share, 4),
                "planted": concern,
                "purity": round(k / t.count, 4),
                "conditions": t.conditions,
                "suggested_feature": t.suggested_feature,
            }
        )
    out.put(
        {
            "overrides": n,
            "variant": "all distinct" if distinct else "templated",
            "distinct_reasons": unique,
            "others": len(others),
            "seconds": round(seconds, 2),
            "peak_traced_mb": round(peak / 2**20, 1),
            "max_rss_mb": round(rss_kb / 1024, 1),
            "themes": summary,
        }
    )


TARGET = (
    "no slower than the baseline (--baseline, run interleaved; else the previous recorded "
    "run): ratio = median seconds / the baseline's <= 1"
)


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _medians_of(runs: list[dict[str, Any]]) -> dict[tuple[int, str], float]:
    seconds: dict[tuple[int, str], list[float]] = {}
    for run in runs:
        if "seconds" in run:
            seconds.setdefault((run["overrides"], run["variant"]), []).append(run["seconds"])
    return {key: _median(values) for key, values in seconds.items()}


def _previous_seconds() -> dict[tuple[int, str], float]:
    """Median seconds per (overrides, variant) in the results file this run replaces."""
    try:
        old = json.loads(RESULTS.read_text())
    except (OSError, ValueError):
        return {}
    return _medians_of(old.get("runs", []))


def _summary(
    runs: list[dict[str, Any]], previous: dict[tuple[int, str], float], against: str
) -> list[dict[str, Any]]:
    by_key: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for run in runs:
        if "seconds" in run:
            by_key.setdefault((run["overrides"], run["variant"]), []).append(run)
    summary = []
    for (n, variant), group in by_key.items():
        seconds = _median([r["seconds"] for r in group])
        before = previous.get((n, variant))
        top = group[0]["themes"][0] if group[0]["themes"] else None
        summary.append(
            {
                "overrides": n,
                "variant": variant,
                "repeat": len(group),
                "seconds": seconds,
                "min_seconds": min(r["seconds"] for r in group),
                "previous_seconds": before,
                "ratio": seconds / before if before else None,
                "ratio_against": against,
                "target": TARGET,
                "peak_traced_mb": max(r["peak_traced_mb"] for r in group),
                "max_rss_mb": max(r["max_rss_mb"] for r in group),
                "themes": len(group[0]["themes"]),
                "top_theme_share": top["share"] if top else None,
                "top_theme_planted": top["planted"] if top else None,
                "top_theme_purity": top["purity"] if top else None,
            }
        )
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument(
        "--distinct-sizes",
        type=int,
        nargs="*",
        default=[100_000],
        help="sizes also run with (nearly) every reason distinct",
    )
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per size")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per size (the summary takes the median)"
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        help="another checkout (e.g. `git archive <commit> | tar -x -C DIR`) whose ml "
        "package is run too, interleaved with this one; ratio = median / its median",
    )
    args = parser.parse_args()

    previous = _previous_seconds()
    ctx = mp.get_context("spawn")
    runs: list[dict[str, Any]] = []
    plan = [(n, False) for n in args.sizes] + [(n, True) for n in args.distinct_sizes]
    roots = [str(ROOT)] + ([str(args.baseline.resolve())] if args.baseline else [])
    runs_of = [(n, d, root) for n, d in plan for _ in range(args.repeat) for root in roots]
    baseline_runs: list[dict[str, Any]] = []
    for n, distinct, root in runs_of:
        queue = ctx.Queue()
        child = ctx.Process(target=_run, args=(n, distinct, queue, root))
        child.start()
        result: dict[str, Any] | None = None
        try:
            result = queue.get(timeout=args.timeout)
        except Exception:
            result = {
                "overrides": n,
                "variant": "all distinct" if distinct else "templated",
                "error": f"no result within {args.timeout:.0f} s",
            }
        child.join(timeout=10)
        if child.is_alive():
            child.terminate()
            child.join()
        if root != str(ROOT):
            result["code"] = root
            baseline_runs.append(result)
            print(f"{n:>8} overrides, baseline: {result.get('seconds', '?')} s")
            continue
        runs.append(result)
        if "error" in result:
            print(f"{n:>8} overrides: {result['error']}")
            continue
        top = result["themes"][0] if result["themes"] else None
        print(
            f"{n:>8} overrides, {result['variant']} ({result['distinct_reasons']} distinct): "
            f"{result['seconds']:.1f} s, peak traced {result['peak_traced_mb']:.0f} MB, "
            f"max RSS {result['max_rss_mb']:.0f} MB; {len(result['themes'])} themes"
        )
        for t in result["themes"]:
            print(
                f"    {t['share']:6.1%} {t['label']!r:45} {t['planted']} ({t['purity']:.0%}) "
                f"{t['conditions']} -> {t['suggested_feature']}"
            )
        if top is not None:
            print(
                f"    top theme share {top['share']:.1%} (planted {SHARES['young_healthcare']:.0%})"
            )

    if args.baseline:
        previous = {
            key: value for key, value in _medians_of(baseline_runs).items() if value is not None
        }
    summary = _summary(runs, previous, "baseline" if args.baseline else "previous")
    for row in summary:
        before = row["previous_seconds"]
        print(
            f"{row['overrides']:>8} overrides, {row['variant']}: median {row['seconds']:.2f} s "
            f"of {row['repeat']}"
            + (
                f", {row['ratio_against']} {before:.2f} s, ratio {row['ratio']:.2f}"
                if before
                else ""
            )
            + f"; peak traced {row['peak_traced_mb']:.0f} MB, max RSS {row['max_rss_mb']:.0f} MB"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "benchmark": "theme mining (ml.themes.mine_themes)",
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": {"python": platform.python_version(), "platform": platform.platform()},
                "planted_shares": SHARES,
                "target": TARGET,
                "baseline": str(args.baseline) if args.baseline else None,
                "summary": summary,
                "runs": runs,
                "baseline_runs": baseline_runs,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0 if all("error" not in r for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
