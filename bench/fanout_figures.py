"""The figures of bench/fanout.py: a row's latencies from the subscribers' merged receipts,
the rows of a setup (arbiter beside baseline), their medians over repetitions, the table.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import ROOT, percentile


@dataclass
class Phase:
    """The events of one row: their keys and their mutations' timings."""

    scenario: str
    target: str  # key prefix: "arbiter" or "baseline"
    keys: list[str] = field(default_factory=list)
    response_after_stamp_ms: list[float] = field(default_factory=list)
    missed: int = 0
    wall_s: float = 0.0


def figures(phase: Phase, receipts: dict[str, Any], subscribers: int) -> dict[str, Any]:
    """The row's numbers from the merged receipts."""
    pairs: list[float] = []
    last: list[float] = []
    first: list[float] = []
    first_t0: int | None = None
    last_receipt: int | None = None
    for key in phase.keys:
        values = receipts["latencies_ns"].get(key, [])
        if not values:
            continue
        pairs.extend(v / 1e6 for v in values)
        last.append(max(values) / 1e6)
        first.append(min(values) / 1e6)
        t0 = receipts["t0_ns"][key]
        first_t0 = t0 if first_t0 is None else min(first_t0, t0)
        end = t0 + max(values)
        last_receipt = end if last_receipt is None else max(last_receipt, end)
    expected = len(phase.keys) * subscribers
    row: dict[str, Any] = {
        "events": len(phase.keys),
        "deliveries": len(pairs),
        "deliveries_missing": expected - len(pairs),
        "events_not_fully_delivered": phase.missed,
    }
    if not pairs:
        return row
    row.update(
        p50_ms=percentile(pairs, 0.50),
        p99_ms=percentile(pairs, 0.99),
        max_ms=max(pairs),
        last_subscriber_p50_ms=percentile(last, 0.50),
        last_subscriber_p99_ms=percentile(last, 0.99),
        stamp_to_response_p50_ms=statistics.median(phase.response_after_stamp_ms),
        events_per_s=len(phase.keys) / phase.wall_s if phase.wall_s else None,
    )
    row["per_event_last_ms"] = [round(v, 1) for v in last]
    row["per_event_first_ms"] = [round(v, 1) for v in first]
    row["per_event_stamp_to_response_ms"] = [round(v, 1) for v in phase.response_after_stamp_ms]
    if phase.scenario == "burst" and first_t0 is not None and last_receipt is not None:
        span = (last_receipt - first_t0) / 1e9
        row["burst_span_s"] = span
        row["deliveries_per_s"] = len(pairs) / span
    return row


def make_rows(
    backend: str,
    bus: str,
    pairs: Sequence[tuple[Phase, Phase]],
    receipts: dict[str, Any],
    subscribers: int,
    connect_s: float,
) -> list[dict[str, Any]]:
    """One row per (arbiter, baseline) pair of phases: the arbiter's figures, the
    baseline's beside them, message sizes, client errors and the ratios."""
    rows = []
    messages = receipts["messages"]
    sizes = {t: receipts["bytes"][t] / messages[t] if messages.get(t) else None for t in messages}
    for arbiter_phase, baseline_phase in pairs:
        mine = figures(arbiter_phase, receipts, subscribers)
        base = figures(baseline_phase, receipts, subscribers)
        row: dict[str, Any] = {
            "backend": backend,
            "bus": bus,
            "scenario": arbiter_phase.scenario,
            "subscribers": subscribers,
            **mine,
            "baseline_p50_ms": base.get("p50_ms"),
            "baseline_p99_ms": base.get("p99_ms"),
            "baseline_max_ms": base.get("max_ms"),
            "baseline_last_subscriber_p50_ms": base.get("last_subscriber_p50_ms"),
            "baseline_last_subscriber_p99_ms": base.get("last_subscriber_p99_ms"),
            "baseline_deliveries_per_s": base.get("deliveries_per_s"),
            "baseline_deliveries_missing": base.get("deliveries_missing"),
            "baseline_per_event_last_ms": base.get("per_event_last_ms"),
            "baseline_per_event_first_ms": base.get("per_event_first_ms"),
            "message_bytes": sizes.get("arbiter"),
            "baseline_message_bytes": sizes.get("baseline"),
            "connect_s": connect_s,
            "client_errors": receipts["error_count"],
            "client_error_samples": receipts["errors"][:3],
            "message_samples": receipts.get("samples"),
        }
        if mine.get("p50_ms") and base.get("p50_ms"):
            row["ratio_p50"] = mine["p50_ms"] / base["p50_ms"]
            row["ratio_p99"] = mine["p99_ms"] / base["p99_ms"]
        rows.append(row)
    return rows


TARGET = "ratio_p50 <= 10 and ratio_p99 <= 10 (fan-out within 10x its bare minimum)"
NUMERIC = (
    "p50_ms",
    "p99_ms",
    "max_ms",
    "last_subscriber_p50_ms",
    "last_subscriber_p99_ms",
    "baseline_p50_ms",
    "baseline_p99_ms",
    "baseline_max_ms",
    "baseline_last_subscriber_p50_ms",
    "baseline_last_subscriber_p99_ms",
    "ratio_p50",
    "ratio_p99",
    "deliveries_per_s",
    "baseline_deliveries_per_s",
    "stamp_to_response_p50_ms",
    "events_per_s",
)


def combine(runs: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Median of each figure over the repetitions, row by row; the spread beside it."""
    summary = []
    for index, first in enumerate(runs[0]):
        group = [run[index] for run in runs]
        row = {k: v for k, v in first.items() if not k.startswith(("per_event", "baseline_per"))}
        row["repetitions"] = len(group)
        for name in NUMERIC:
            values = [r[name] for r in group if r.get(name) is not None]
            if values:
                row[name] = statistics.median(values)
                if len(values) > 1:
                    row[f"{name}_range"] = [min(values), max(values)]
        for name in ("deliveries_missing", "events_not_fully_delivered", "client_errors"):
            row[name] = sum(r.get(name) or 0 for r in group)
        row["target"] = TARGET
        ratios = (row.get("ratio_p50"), row.get("ratio_p99"))
        row["target_met"] = None if None in ratios else all(r <= 10 for r in ratios if r)
        summary.append(row)
    # What crossing replicas adds: redis rows minus the same backend's in-process paced row.
    for row in summary:
        if row["bus"] != "redis":
            continue
        reference = next(
            (
                r
                for r in summary
                if r["backend"] == row["backend"]
                and r["bus"] == "in-process"
                and r["scenario"] == "paced"
            ),
            None,
        )
        if reference and "p50_ms" in row and "p50_ms" in reference:
            row["added_vs_in_process_p50_ms"] = row["p50_ms"] - reference["p50_ms"]
            row["added_vs_in_process_p99_ms"] = row["p99_ms"] - reference["p99_ms"]
    for row in summary:
        if row["scenario"] == "redis-cross":
            same = next(
                (r for r in summary if r["scenario"] == "redis-same" and r["bus"] == "redis"),
                None,
            )
            if same and "p50_ms" in row and "p50_ms" in same:
                row["added_vs_same_replica_p50_ms"] = row["p50_ms"] - same["p50_ms"]
                row["added_vs_same_replica_p99_ms"] = row["p99_ms"] - same["p99_ms"]
    return summary


def fmt(value: Any, width: int = 8, digits: int = 1) -> str:
    """A table cell: right-aligned, floats to `digits` places, "-" for none."""
    if value is None:
        return f"{'-':>{width}}"
    if isinstance(value, float):
        return f"{value:>{width}.{digits}f}"
    return f"{value!s:>{width}}"


def report(results: dict[str, Any], path: Path) -> None:
    """The table of the combined rows on stdout, and where the results were written."""
    setup = results["setup"]
    print(
        f"\nfan-out: {setup['subscribers']} graphql-transport-ws subscribers, "
        f"{setup['events']} paced + {setup['burst']} burst events, "
        f"{setup['clients']} client processes, {setup['repetitions']} repetition(s) (medians)"
    )
    print("latency = receipt at a subscriber - the event's `at` stamp (ms); last = per event, ")
    print("the last subscriber's; bl = bare Starlette/uvicorn broadcast baseline, same run")
    header = (
        f"{'backend':<11}{'scenario':<12}{'p50':>8}{'p99':>8}{'max':>8}{'last50':>8}"
        f"{'last99':>8}{'bl p50':>8}{'bl p99':>8}{'x p50':>7}{'x p99':>7}{'deliv/s':>9}"
        f"{'bl/s':>9}{'miss':>6}"
    )
    print(header)
    for row in results["summary"]:
        print(
            f"{row['backend']:<11}{row['scenario']:<12}"
            f"{fmt(row.get('p50_ms'))}{fmt(row.get('p99_ms'))}{fmt(row.get('max_ms'))}"
            f"{fmt(row.get('last_subscriber_p50_ms'))}{fmt(row.get('last_subscriber_p99_ms'))}"
            f"{fmt(row.get('baseline_p50_ms'))}{fmt(row.get('baseline_p99_ms'))}"
            f"{fmt(row.get('ratio_p50'), 7)}{fmt(row.get('ratio_p99'), 7)}"
            f"{fmt(row.get('deliveries_per_s'), 9, 0)}"
            f"{fmt(row.get('baseline_deliveries_per_s'), 9, 0)}"
            f"{fmt(row.get('deliveries_missing'), 6)}"
        )
    for row in results["summary"]:
        if "added_vs_in_process_p50_ms" in row:
            extra = ""
            if "added_vs_same_replica_p50_ms" in row:
                extra = (
                    f"; vs redis-same: +{row['added_vs_same_replica_p50_ms']:.1f} / "
                    f"+{row['added_vs_same_replica_p99_ms']:.1f}"
                )
            print(
                f"{row['backend']} {row['scenario']}: added vs in-process p50/p99 "
                f"+{row['added_vs_in_process_p50_ms']:.1f} / "
                f"+{row['added_vs_in_process_p99_ms']:.1f} ms{extra}"
            )
    print(f"written to {path.relative_to(ROOT)}")
