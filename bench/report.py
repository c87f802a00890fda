"""Gather bench/results/*.json into bench/results.json and the tables of BENCHMARKS.md.

    .venv/bin/python bench/report.py

The tables go between the `<!-- results:start -->` and `<!-- results:end -->`
lines of BENCHMARKS.md; the prose around them is written by hand.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
START, END = "<!-- results:start -->", "<!-- results:end -->"


def _n(value: Any, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "**no**"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if abs(value) >= 100:
            return f"{value:,.0f}"
        return f"{value:.{digits}f}"
    return str(value)


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_n(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def read_path(doc: dict[str, Any]) -> str:
    return _table(
        ["backend", "condition", "Arbiter req/s", "bare req/s", "ratio", "target", "met",
         "Arbiter p50 ms", "Arbiter p99 ms", "bare p99 ms"],
        [
            [r["backend"], r["condition"], r["arbiter_rps"], r["bare_rps"], r["ratio"],
             r["target"], r["met"], r["arbiter_p50_ms"], r["arbiter_p99_ms"], r["bare_p99_ms"]]
            for r in doc["summary"]
        ],
    )  # fmt: skip


def decision_path(doc: dict[str, Any]) -> str:
    return _table(
        ["backend", "workflows", "Arbiter processes", "load", "Arbiter decisions/s",
         "bare decisions/s", "ratio", "x before group commit", "Arbiter p50 ms",
         "Arbiter p99 ms", "bare p99 ms", "met"],
        [
            [r["backend"], r.get("workflows", 1), r.get("server_workers", 1),
             r.get("load", "saturating"), r["arbiter_decisions_per_s"],
             r["bare_decisions_per_s"], r["ratio"], r.get("speed_up_vs_before"),
             r["arbiter_p50_ms"], r["arbiter_p99_ms"], r["bare_p99_ms"], r["met"]]
            for r in doc["summary"]
        ],
    )  # fmt: skip


def ingestion(doc: dict[str, Any]) -> str:
    return _table(
        ["backend", "Arbiter items/s", "bare executemany items/s", "ratio",
         "batch p50 ms", "batch p99 ms", "target items/s", "met"],
        [
            [r["backend"], r["arbiter_items_per_s"], r["bare_items_per_s"], r["ratio"],
             r["arbiter_batch_p50_ms"], r["arbiter_batch_p99_ms"], r["target_items_per_s"],
             r["met"]]
            for r in doc["summary"]
        ],
    )  # fmt: skip


def queue_page(doc: dict[str, Any]) -> str:
    return _table(
        ["backend", "statements (10 / 50 / 100 items)", "met (constant, <= 5)",
         "Arbiter p50 ms", "Arbiter p99 ms", "bare p50 ms", "bare p99 ms", "ratio (pages/s)"],
        [
            [r["backend"], " / ".join(str(v) for v in r["statements_by_page_size"].values()),
             r["met"], r["arbiter_p50_ms"], r["arbiter_p99_ms"], r["bare_p50_ms"],
             r["bare_p99_ms"], r["ratio"]]
            for r in doc["summary"]
        ],
    )  # fmt: skip


def fanout(doc: dict[str, Any]) -> str:
    return _table(
        ["backend", "bus", "scenario", "subscribers", "p50 ms", "p99 ms", "bare p50 ms",
         "bare p99 ms", "ratio p50", "ratio p99", "missed"],
        [
            [r["backend"], r["bus"], r["scenario"], r["subscribers"], r["p50_ms"], r["p99_ms"],
             r["baseline_p50_ms"], r["baseline_p99_ms"], r["ratio_p50"], r["ratio_p99"],
             r["deliveries_missing"]]
            for r in doc["summary"]
        ],
    )  # fmt: skip


def retrain(doc: dict[str, Any]) -> str:
    # raw: the same procedure's LightGBM part on the same arrays; one fit: the served refit
    return _table(
        ["decisions", "source", "end to end s", "raw (same procedure) s", "ratio (best)",
         "ratio (median)", "CPU ratio", "one raw fit s", "ratio to one fit",
         "peak RSS MB (end to end)", "peak RSS MB (raw)", "accuracy"],
        [
            [r["size"], r.get("source", "arrays"), r["end_to_end_seconds"], r["raw_seconds"],
             r["ratio"], r.get("median_ratio"),
             r["end_to_end_cpu_seconds"] / r["raw_cpu_seconds"] if "raw_cpu_seconds" in r else None,
             r.get("one_fit_seconds"), r.get("ratio_to_one_fit"),
             r.get("end_to_end_peak_rss_mb"), r.get("raw_peak_rss_mb"), r.get("accuracy")]
            for r in doc["summary"]
        ],
    )  # fmt: skip


def themes(doc: dict[str, Any]) -> str:
    rows = []
    for run in doc.get("runs", []):
        found = run.get("themes") or []
        planted = sorted({t["planted"] for t in found if t.get("planted")})
        rows.append(
            [run.get("overrides"), run.get("variant"), run.get("seconds"), run.get("max_rss_mb"),
             len(found), ", ".join(planted) or "none"]
        )  # fmt: skip
    return _table(
        ["overrides", "reasons", "seconds", "peak RSS MB", "themes", "planted rules found"], rows
    )


def subscription_latency(doc: dict[str, Any]) -> str:
    latency = doc["latency_ms"]
    return _table(
        ["setup", "median ms", "p95 ms", "p99 ms", "missed"],
        [[f"{doc['setup']['database']}, {doc['setup']['bus']}, 1 subscriber",
          latency["median"], latency["p95"], latency["p99"], doc["missed"]]],
    )  # fmt: skip


SECTIONS: list[tuple[str, str, Callable[[dict[str, Any]], str]]] = [
    ("read_path", "1. Read path", read_path),
    ("decision_path", "2. Decision path", decision_path),
    ("decision_path_workflows", "2b. Decision path, four workflows", decision_path),
    ("decision_path_server_workers", "2c. Decision path, two server processes", decision_path),
    ("ingestion", "3. Ingestion", ingestion),
    ("ingestion_auto", "3b. Ingestion, every item auto-approved and logged", ingestion),
    ("queue_page", "4. Queue page of 100", queue_page),
    ("fanout", "5. Fan-out to 1,000 subscribers", fanout),
    ("subscription_latency", "5b. One subscriber, response to receipt", subscription_latency),
    ("retrain", "6. Retraining", retrain),
    ("themes", "6b. Theme mining", themes),
]


def main() -> None:
    documents = {}
    parts = []
    for name, title, render in SECTIONS:
        path = RESULTS / f"{name}.json"
        if not path.exists():
            parts.append(f"### {title}\n\nNot measured yet: run `make bench`.\n")
            continue
        document = json.loads(path.read_text())
        documents[name] = document
        recorded = document.get("recorded_at") or document.get("created_at") or "?"
        try:
            table = render(document)
        except (KeyError, TypeError) as error:  # a result file of another shape
            table = f"(cannot render {path.name}: {error!r}; see the JSON)"
        parts.append(
            f"### {title}\n\nRecorded {recorded}; `bench/results/{name}.json`.\n\n{table}\n"
        )
    (ROOT / "bench" / "results.json").write_text(json.dumps(documents, indent=2) + "\n")
    report = ROOT / "BENCHMARKS.md"
    text = report.read_text() if report.exists() else f"# Benchmarks\n\n{START}\n{END}\n"
    if START not in text or END not in text:
        text += f"\n{START}\n{END}\n"
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    report.write_text(f"{head}{START}\n\n" + "\n".join(parts) + f"\n{END}{tail}")
    print(f"wrote bench/results.json and the tables of {report.name}")


if __name__ == "__main__":
    main()
