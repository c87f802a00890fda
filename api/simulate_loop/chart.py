"""The loop's chart: accuracy, workload and the auto-approved error, month by month
(matplotlib's Agg backend: a PNG file, no display, no network)."""

from __future__ import annotations

from pathlib import Path

from api.simulate_loop.measures import MonthFigures
from api.simulate_loop.settings import LoopSettings


def draw(months: list[MonthFigures], settings: LoopSettings, path: Path) -> None:
    """Three panels side by side, written to `path` as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    x = [m.month for m in months]
    figure, (accuracy, workload, error) = plt.subplots(1, 3, figsize=(13, 3.8), dpi=110)
    try:
        accuracy.plot(x, [m.accuracy * 100 for m in months], "o-", label="proposals (fresh cases)")
        accuracy.plot(x, [m.upstream_accuracy * 100 for m in months], "s--", label="upstream model")
        accuracy.axhline(months[0].bayes_accuracy * 100, color="grey", ls=":", label="Bayes limit")
        accuracy.set_title("Accuracy on fresh cases (%)")
        accuracy.legend(fontsize=8, loc="lower right")

        reviews = [100 * m.human_reviews / m.cases for m in months]
        share = [100 * m.auto_approved_share for m in months]
        workload.bar(x, reviews, color="tab:orange", label="human reviews per 100 cases")
        workload.plot(x, share, "o-", color="tab:green", label="auto-approved (%)")
        workload.set_ylim(0, 105)
        workload.set_title("Workload")
        workload.legend(fontsize=8, loc="center right")

        errors = [
            None if m.auto_approved_error is None else 100 * m.auto_approved_error for m in months
        ]
        shown = [(month, e) for month, e in zip(x, errors, strict=True) if e is not None]
        if shown:
            error.plot(*zip(*shown, strict=True), "o-", color="tab:red", label="true error")
        error.axhline(settings.max_auto_approve_error * 100, color="black", ls="--", label="target")
        error.set_ylim(0, max([settings.max_auto_approve_error * 150, *[e for _, e in shown]]))
        error.set_title("Auto-approved: true error (%)")
        error.legend(fontsize=8, loc="upper right")

        for panel in (accuracy, workload, error):
            panel.set_xlabel("simulated month")
            panel.set_xticks(x)
        figure.suptitle(
            f"The loop, month by month: world {settings.world}, seed {settings.seed}, "
            f"{settings.cases_per_month:,} cases a month",
            fontsize=10,
        )
        figure.tight_layout()
        figure.savefig(path)
    finally:
        plt.close(figure)
