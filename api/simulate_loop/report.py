"""The loop's report: every month's figures, the promise checked, as JSON and markdown."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from api.simulate_loop.measures import MonthFigures, Promise, check_promise
from api.simulate_loop.settings import LoopSettings


@dataclass
class LoopReport:
    settings: LoopSettings
    months: list[MonthFigures]
    seconds: float  # wall-clock time of the whole run

    @property
    def promise(self) -> Promise:
        return check_promise(self.months, self.settings.max_auto_approve_error)

    def as_json(self) -> dict[str, Any]:
        promise = self.promise
        return {
            "settings": {**asdict(self.settings), "database": self._database()},
            "seconds": round(self.seconds, 1),
            "months": [m.as_json() for m in self.months],
            "promise": {**asdict(promise), "kept": promise.kept},
        }

    def _database(self) -> str | None:
        return None if self.settings.database is None else str(self.settings.database)

    def markdown(self) -> str:
        """The table, then each month's feedback sentence, recommendation and alarms."""
        s = self.settings
        lines = [
            f"World `{s.world}`, seed {s.seed}, {s.cases_per_month:,} cases a month; "
            f"target: auto-approved error <= {s.max_auto_approve_error:.0%} "
            f"at {s.confidence_level:.0%} confidence; audit sample {s.audit_sample_rate:.0%}."
            + (
                f" From the middle of month {s.shift_month} the planted rule is "
                f"`{s.shift_world}`: the world drifts under the served model."
                if s.shift_month is not None
                else ""
            ),
            "",
            "| month | proposer | accuracy (fresh) | auto-approved | its true error "
            "| human reviews | ladder | drift alarms |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for m in self.months:
            error = "-" if m.auto_approved_error is None else f"{m.auto_approved_error:.1%}"
            lines.append(
                f"| {m.month} ({m.start[:10]}) | {m.proposer} "
                f"| {m.accuracy:.1%} ± {m.accuracy_se:.1%} "
                f"({m.accuracy_realised:.1%} realised) | {m.auto_approved_share:.1%} | {error} "
                f"| {m.human_reviews:,} ({m.audit_reviews} audits, {m.reviewer_mistakes} "
                f"mistakes) | {m.threshold_start:.2f} -> {m.threshold_end:.2f} "
                f"| {len(m.drift_alarms)} |"
            )
        promise = self.promise
        lines += [
            "",
            f"Accuracy up: {_yes(promise.accuracy_up)}; human workload down: "
            f"{_yes(promise.workload_down)}; auto-approved error under the target every month: "
            f"{_yes(promise.error_under_target)}. Bayes-optimal accuracy "
            f"{self.months[0].bayes_accuracy:.1%}; the upstream model "
            f"{self.months[0].upstream_accuracy:.1%} on month 1's cases.",
            "",
        ]
        for m in self.months:
            lines.append(f"- Month {m.month}: {m.retraining}.")
            if m.feedback:
                lines.append(f"  Feedback report: {m.feedback}")
            lines.append(f"  recommendThreshold: {m.recommendation}")
            if m.top_theme:
                lines.append(f"  Top theme: {m.top_theme}.")
            for alarm in m.drift_alarms:
                lines.append(f"  Drift: {alarm}")
        return "\n".join(lines) + "\n"

    def write(self, out: Path) -> list[Path]:
        """DIR/loop.json, DIR/loop.md and DIR/loop.png; returns their paths."""
        from api.simulate_loop.chart import draw

        out.mkdir(parents=True, exist_ok=True)
        paths = [out / "loop.json", out / "loop.md", out / "loop.png"]
        paths[0].write_text(json.dumps(self.as_json(), indent=2) + "\n")
        paths[1].write_text(self.markdown())
        draw(self.months, self.settings, paths[2])
        return paths


def _yes(value: bool) -> str:
    return "yes" if value else "NO"
