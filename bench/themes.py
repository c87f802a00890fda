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
it (tracemalloc) and the child's peak resident set size (ru_maxrss, which
includes the interpreter, the libraries and the generated input). A child
that takes longer than --timeout seconds is stopped.

    .venv/bin/python bench/themes.py [--sizes 10000 100000] [--distinct-sizes 100000]
                                     [--timeout 900]

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


def _run(n: int, distinct: bool, out: Any) -> None:
    sys.path.insert(0, str(ROOT))
    from ml.themes import mine_themes

    overrides, labels, others = generate(n, distinct=distinct)
    unique = len({o.reason for o in overrides})
    model_features = {"annual_revenue", "employees", "requested_amount", "channel"}
    tracemalloc.start()
    t0 = time.perf_counter()
    themes = mine_themes(overrides, others, model_features)
    seconds = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
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
    args = parser.parse_args()

    ctx = mp.get_context("spawn")
    runs: list[dict[str, Any]] = []
    plan = [(n, False) for n in args.sizes] + [(n, True) for n in args.distinct_sizes]
    for n, distinct in plan:
        queue = ctx.Queue()
        child = ctx.Process(target=_run, args=(n, distinct, queue))
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

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "benchmark": "theme mining (ml.themes.mine_themes)",
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": {"python": platform.python_version(), "platform": platform.platform()},
                "planted_shares": SHARES,
                "runs": runs,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0 if all("error" not in r for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
