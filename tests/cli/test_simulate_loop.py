"""`arbiter simulate-loop`: a small loop through the public API, its report's figures in range
and the loop's real properties; its reviewers and measures; bad arguments refused."""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from api.app import create_app
from api.settings import Settings
from api.simulate_loop.measures import Routed, auto_approval, check_promise
from api.simulate_loop.reviewers import Fatigue, Reviewer
from domain.enums import Role
from domain.usecases.accounts import create_user
from ml.worlds import generate_world
from tests.cli.helpers import ARBITER, Ran, environment, files_under, run_all

# Three months: whether the second month's ladder moves is chance (the order in which
# reviewers meet the items, and so their slips, varies from run to run); in about one run
# in ten no threshold meets the target with the first model's few labels.
SMALL = ("--months", "3", "--cases-per-month", "300", "--seed", "3", "--threads", "1")
# A target the small loop's first model meets with a few hundred labels: the ladder moves.
TARGET = ("--max-auto-approve-error", "0.15")


LOOP_TIMEOUT = 300  # seconds: about 40 on an idle machine; the CLI helpers allow 60


def run_long(*args: str, cwd: Path) -> Ran:
    done = subprocess.run(
        [*ARBITER, *args],
        cwd=cwd,
        env=environment(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=LOOP_TIMEOUT,
    )
    return Ran(tuple(args), done.returncode, done.stdout, done.stderr)


def test_a_small_loop_is_measured_month_by_month_and_pays_off(tmp_path: Path) -> None:
    ran = run_long(
        "simulate-loop", *SMALL, *TARGET, "--out", "out", "--database", "loop.db", cwd=tmp_path
    )
    assert ran.status == 0, ran.err
    out = tmp_path / "out"
    assert files_under(out) == {Path("loop.json"), Path("loop.md"), Path("loop.png")}
    kept = asyncio.run(learning_by_month(tmp_path / "loop.db"))
    assert (out / "loop.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = (out / "loop.md").read_text()
    assert "| month | proposer | accuracy (fresh) |" in table
    assert table in ran.out  # the same table on standard output

    report = json.loads((out / "loop.json").read_text())
    months = report["months"]
    assert [m["month"] for m in months] == [1, 2, 3]
    starts = [datetime.fromisoformat(m["start"]) for m in months]
    ends = [datetime.fromisoformat(m["end"]) for m in months]
    assert [b - a for a, b in itertools.pairwise(starts)] == [timedelta(days=30)] * 2
    assert all(
        s < e < n
        for s, e, n in zip(starts, ends, [*starts[1:], ends[-1] + timedelta(1)], strict=False)
    )
    for m in months:
        assert m["cases"] == 300
        for name in ("accuracy", "accuracy_realised", "upstream_accuracy", "auto_approved_share"):
            assert 0.0 <= m[name] <= 1.0, (name, m)
        assert m["auto_approved_error"] is None or 0.0 <= m["auto_approved_error"] <= 1.0
        assert 0 <= m["audit_reviews"] <= m["human_reviews"] <= m["cases"]
        assert m["human_reviews"] + round(m["auto_approved_share"] * m["cases"]) <= m["cases"]
        assert 0.0 < m["threshold_end"] <= 1.0 and m["recommendation"]

    # The upstream model proposes first; each retrained model is promoted and proposes next.
    assert months[0]["proposer"] == "upstream"
    for before, after in itertools.pairwise(months):
        assert "promoted" in before["retraining"], before["retraining"]
        assert after["proposer"] == before["active_model_after"]
        assert after["proposer"].startswith("v")
        assert after["threshold_start"] == before["threshold_end"]
    assert months[0]["feedback"]  # the first promotion's sentence
    assert "PROMOTED v1" in months[0]["model_events"]  # heard on the modelEvents subscription
    assert months[0]["drift_alarms"] == []  # a stable world
    # The loop pays off: the served model beats the upstream one, people review less.
    assert months[1]["accuracy"] > months[0]["accuracy"]
    assert months[0]["human_reviews"] == 300  # the ladder starts with everything to people
    assert months[-1]["human_reviews"] < months[0]["human_reviews"]
    assert months[-1]["auto_approved_share"] > 0
    assert report["promise"]["workload_down"] is True

    # The kept database tells the same months, ending today, to the console's learningByMonth.
    assert timedelta(0) < datetime.now(UTC) - ends[-1] <= timedelta(days=2)
    assert sum(m["submitted"] for m in kept) == 900
    assert sum(m["humanDecisions"] for m in kept) == sum(m["human_reviews"] for m in months)
    promoted = [m["active_model_after"] for m in months]
    assert [v for m in kept for v in m["promoted"]] == list(dict.fromkeys(promoted))


async def learning_by_month(database: Path) -> list[dict[str, Any]]:
    """learningByMonth(months: 4) on a database, through the app as `arbiter serve` runs it."""
    settings = Settings(database_url=f"sqlite+aiosqlite:///{database}", console=False)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        services = app.state.services
        _, token = await services.run(create_user, None, "reader", Role.ADMIN)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            headers = {"Authorization": f"Bearer {token}"}
            query = "query($w: String!) { learningByMonth(workflow: $w, months: 4) "
            query += "{ submitted humanDecisions promoted } }"
            body = {"query": query, "variables": {"w": "loop-young-healthcare"}}
            answer = (await http.post("/graphql", json=body, headers=headers)).json()
    return list(answer["data"]["learningByMonth"])


def test_bad_arguments_are_one_line_and_exit_2_creating_nothing(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    mistakes = [
        (("--months", "0"), "--months must be between 1 and 24"),
        (("--cases-per-month", "5"), "--cases-per-month must be between 30"),
        (("--world", "mars"), "unknown world 'mars'; known: foreign_unverified"),
        (("--max-auto-approve-error", "1.5"), "--max-auto-approve-error must be between 0 and 1"),
        (("--confidence-level", "0.3"), "--confidence-level must be between 0.5 and 1"),
        (("--out", "a-file"), "is a file, not a directory"),
        (("--database", "a-file"), "--database a-file exists"),
        (("--shift-month", "1"), "--shift-month must be between 2 and --months (6)"),
        (("--shift-month", "3", "--shift-world", "young_healthcare"), "another known world"),
        (("--months", "two"), "invalid int value: 'two'"),
    ]
    results = run_all([("simulate-loop", *args) for args, _ in mistakes], tmp_path, environment())
    for ran, (_, message) in zip(results, mistakes, strict=True):
        assert ran.status == 2, (ran.args, ran.err)
        assert len(ran.err_lines) == 1 and ran.err_lines[0].startswith("error: "), ran.err
        assert message in ran.err_lines[0], ran.err
    assert files_under(tmp_path) == {Path("a-file")}


# ------------------------------------------------------------------ reviewers and measures


def test_a_tired_reviewer_errs_more_up_to_a_ceiling() -> None:
    fatigue = Fatigue(base_error=0.02, fatigue_per_decision=0.001, max_error=0.15)
    assert fatigue.error_rate(0) == 0.02
    assert fatigue.error_rate(100) > fatigue.error_rate(10) > fatigue.error_rate(0)
    assert fatigue.error_rate(10_000) == 0.15

    cases = generate_world(2000, 5)
    reviewer = Reviewer("a", "t", "young_healthcare", fatigue, random.Random(1))

    def slips(run_length: int) -> int:
        made = 0
        for case in cases:
            reviewer.run_length = run_length  # each call at the same point of a run
            made += reviewer.call(case, case.upstream_action, ("approve", "decline")).mistaken
        assert reviewer.run_length == run_length + 1  # a call lengthens the run
        return made

    fresh, tired = slips(0), slips(500)
    assert 10 <= fresh <= 80  # about 2% of 2,000
    assert tired > 4 * fresh  # 15% at the ceiling


def test_a_careful_reviewer_takes_the_truth_and_says_why_as_people_do() -> None:
    careful = Reviewer("a", "t", "young_healthcare", Fatigue(0.0, 0.0, 0.0), random.Random(2))
    for case in generate_world(400, 7):
        call = careful.call(case, case.upstream_action, ("approve", "decline"))
        assert not call.mistaken and call.action == case.true_action
        assert call.approve == (case.upstream_action == case.true_action)
        if not call.approve:
            assert call.reason == case.reason  # the world's own words for its own proposal


def test_the_auto_approved_error_is_against_the_drawn_truth_not_the_rule() -> None:
    cases = generate_world(3000, 11)
    noisy = next(c for c in cases if c.true_action != c.bayes_action)
    clean = [c for c in cases if c.true_action == c.bayes_action][:3]

    def routed(case, auto: bool = True) -> Routed:  # type: ignore[no-untyped-def]
        return Routed(case, case.bayes_action, 0.97, "AUTO_APPROVE", auto, False)

    share, error = auto_approval([routed(noisy), *map(routed, clean), routed(clean[0], False)])
    assert share == 4 / 5
    assert error == 1 / 4  # the rule's action, but not what the careful human drew
    assert auto_approval([routed(clean[0], False)]) == (0.0, None)


def test_the_promise_is_kept_only_when_every_part_holds() -> None:
    from api.simulate_loop.measures import MonthFigures

    def month(
        n: int, accuracy: float, reviews: int, error: float | None, se: float = 0.002
    ) -> MonthFigures:
        return MonthFigures(
            month=n,
            world="young_healthcare",
            start="",
            end="",
            proposer="v1",
            cases=100,
            accuracy=accuracy,
            accuracy_realised=accuracy,
            upstream_accuracy=0.9,
            bayes_accuracy=0.97,
            auto_approved_share=0.5,
            auto_approved_error=error,
            human_reviews=reviews,
            audit_reviews=0,
            reviewer_mistakes=0,
            threshold_start=1.0,
            threshold_end=1.0,
            recommendation="",
            top_theme=None,
            retraining="",
            active_model_after=None,
            feedback=None,
            accuracy_se=se,
        )

    good = [month(1, 0.90, 100, None), month(2, 0.95, 60, 0.03), month(3, 0.96, 40, 0.04)]
    assert check_promise(good, 0.05).kept
    assert not check_promise(good, 0.035).error_under_target
    worse = [good[0], month(2, 0.85, 60, 0.03), good[2]]
    assert not check_promise(worse, 0.05).accuracy_up
    # A dip within two standard errors of the difference is sampling, not a loss.
    noisy = [good[0], month(2, 0.95, 60, 0.03, se=0.004), month(3, 0.944, 40, 0.04, se=0.004)]
    assert check_promise(noisy, 0.05).accuracy_up
    dip = [good[0], month(2, 0.95, 60, 0.03, se=0.001), month(3, 0.944, 40, 0.04, se=0.001)]
    assert not check_promise(dip, 0.05).accuracy_up
    busier = [good[0], good[1], month(3, 0.96, 80, 0.04)]
    assert not check_promise(busier, 0.05).workload_down
    # 60 then 65 reviews of 100 cases: within two standard errors of the audit draw.
    drawn = [good[0], good[1], month(3, 0.96, 65, 0.04)]
    assert check_promise(drawn, 0.05).workload_down


def test_a_shifted_world_changes_its_planted_rule_halfway_through_the_month_named() -> None:
    from api.simulate_loop.settings import SHIFT_DAY, LoopSettings

    steady = LoopSettings(months=4)
    shifted = LoopSettings(months=4, shift_month=3, shift_world="foreign_unverified")
    assert {steady.rule_of(m, d) for m in range(4) for d in range(30)} == {"young_healthcare"}
    assert shifted.rule_of(1, 29) == shifted.rule_of(2, SHIFT_DAY - 1) == "young_healthcare"
    assert shifted.rule_of(2, SHIFT_DAY) == shifted.rule_of(3, 0) == "foreign_unverified"
