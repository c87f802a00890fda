"""domain.analytics: windows, rates, by-action folding, fatigue signals, simulation, rights."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone

import pytest

from domain import analytics
from domain.analytics import GroupTally, Tally
from domain.enums import Role, Tier, Verdict, Window
from domain.errors import ForbiddenError, InvalidInputError
from domain.policy import EscalationPolicy

NOW = datetime(2026, 5, 20, 15, 30, tzinfo=UTC)

# ------------------------------------------------------------------ windows


@pytest.mark.parametrize(
    ("window", "days", "points", "step"),
    [(Window.WEEK, 7, 7, 1), (Window.MONTH, 30, 30, 1), (Window.QUARTER, 91, 13, 7)],
)
def test_buckets_cover_the_window_exactly_in_equal_steps(window, days, points, step):
    since = analytics.window_since(window, NOW)
    starts = analytics.bucket_starts(window, NOW)
    assert since == NOW - timedelta(days=days)
    assert len(starts) == points
    assert starts[0] == since
    assert all(b - a == timedelta(days=step) for a, b in itertools.pairwise(starts))
    assert starts[-1] + timedelta(days=step) == NOW


def test_today_starts_at_midnight_utc_whatever_the_offset_of_now():
    late_in_new_york = datetime(2026, 5, 20, 22, 0, tzinfo=timezone(timedelta(hours=-4)))
    assert analytics.utc_day_start(late_in_new_york) == datetime(2026, 5, 21, tzinfo=UTC)


def test_rates_of_nothing_are_zero_and_shares_of_nothing_are_null():
    assert analytics.rate(0, 0) == 0.0
    assert analytics.share(0, 0) is None
    assert analytics.rate(1, 4) == analytics.share(1, 4) == 0.25


def test_a_tally_counts_by_verdict_and_its_rates_add_up_to_one():
    t = Tally()
    for verdict in (Verdict.APPROVE, Verdict.APPROVE, Verdict.REJECT, Verdict.EDIT):
        t.count(verdict)
    t.count(Verdict.OVERRIDE, 4)
    assert (t.decisions, t.approvals, t.rejections, t.edits, t.overrides) == (8, 2, 1, 1, 4)
    assert (t.agreement_rate, t.reject_rate, t.edit_rate, t.override_rate) == (
        0.25,
        0.125,
        0.125,
        0.5,
    )
    assert t.minus(Tally(3, 1, 1, 0, 1)) == Tally(5, 1, 0, 1, 3)


# ------------------------------------------------------------------ by action, series


def test_by_action_names_the_most_common_replacement_busiest_action_first():
    rows = [
        ("A", "APPROVE", "A", 3),
        ("A", "OVERRIDE", "B", 2),
        ("A", "OVERRIDE", "C", 5),
        ("A", "REJECT", None, 1),
        ("B", "APPROVE", "B", 2),
        ("C", "OVERRIDE", "B", 1),
        ("C", "OVERRIDE", "A", 1),
    ]
    a, b, c = analytics.by_action(rows)
    assert (a.proposed_action, a.decisions, a.approvals, a.rejections, a.overrides) == (
        "A",
        11,
        3,
        1,
        7,
    )
    assert a.override_rate == pytest.approx(7 / 11)
    assert a.top_replacement == "C"
    assert (b.proposed_action, b.top_replacement, b.override_rate) == ("B", None, 0.0)
    assert (c.proposed_action, c.top_replacement) == ("C", "A")  # a tie: alphabetically first


def test_the_series_has_a_point_per_bucket_and_empty_ones_are_zeros():
    starts = analytics.bucket_starts(Window.WEEK, NOW)
    points = analytics.series(starts, {2: Tally(4, 3, 0, 0, 1)})
    assert [p.decisions for p in points] == [0, 0, 4, 0, 0, 0, 0]
    assert (points[2].agreement_rate, points[2].override_rate) == (0.75, 0.25)
    assert (points[0].agreement_rate, points[0].override_rate) == (0.0, 0.0)
    assert [p.start for p in points] == starts


# ------------------------------------------------------------------ fatigue


def agreeing(decisions: int, approvals: int) -> Tally:
    return Tally(decisions, approvals, decisions - approvals, 0, 0)


def test_ten_fast_approvals_in_a_row_make_a_warning_in_plain_words():
    warning = analytics.fatigue_warning(10, 3000, {}, {})
    assert warning is not None
    assert "10 approvals in a row" in warning
    assert "3000 ms" in warning


def test_nine_fast_approvals_or_no_minimum_dwell_make_no_warning():
    assert analytics.fatigue_warning(9, 3000, {}, {}) is None
    assert analytics.fatigue_warning(50, 0, {}, {}) is None


def test_agreeing_far_more_than_peers_on_a_tier_makes_a_warning():
    own = {Tier.ANALYST_REVIEW: agreeing(20, 19)}
    peers = {Tier.ANALYST_REVIEW: agreeing(40, 24)}  # 95% against 60%
    warning = analytics.fatigue_warning(0, 0, own, peers)
    assert warning is not None
    assert "95%" in warning and "60%" in warning and "ANALYST_REVIEW" in warning


@pytest.mark.parametrize(
    ("own", "peers"),
    [
        (agreeing(20, 17), agreeing(20, 12)),  # 85% against 60%: exactly the margin
        (agreeing(19, 19), agreeing(40, 20)),  # too few of their own
        (agreeing(40, 40), agreeing(19, 5)),  # too few peers
    ],
)
def test_no_peer_warning_at_the_margin_or_on_too_few_decisions(own, peers):
    assert (
        analytics.fatigue_warning(0, 0, {Tier.SENIOR_REVIEW: own}, {Tier.SENIOR_REVIEW: peers})
        is None
    )


def test_peers_are_compared_on_the_same_tier_only():
    own = {Tier.SENIOR_REVIEW: agreeing(30, 30)}
    peers = {Tier.ANALYST_REVIEW: agreeing(30, 3), Tier.SENIOR_REVIEW: agreeing(30, 27)}
    assert analytics.fatigue_warning(0, 0, own, peers) is None


def group(actor: str | None, tier: Tier, t: Tally, **counts: int) -> GroupTally:
    return GroupTally(actor is None, actor, tier, t, **counts)


def test_reviewer_stats_add_up_tiers_and_take_peers_from_the_other_reviewers():
    groups = [
        group("stamp", Tier.ANALYST_REVIEW, agreeing(25, 25), today=5, fast=20),
        group("stamp", Tier.SENIOR_REVIEW, agreeing(5, 5), audited=2, audited_approvals=2),
        group("care", Tier.ANALYST_REVIEW, agreeing(30, 15), fast=1, audited=4),
        group(None, Tier.AUTO_APPROVE, agreeing(100, 100)),  # automated: no reviewer
    ]
    stats = analytics.reviewer_stats(groups, {"stamp": 400}, {"stamp": 3}, 2000)
    assert [s.reviewer_id for s in stats] == ["care", "stamp"]  # 30 each: by id
    care, stamp = stats
    assert (stamp.decisions, stamp.decisions_today, stamp.fast_decisions) == (30, 5, 20)
    assert (stamp.agreement_rate, stamp.audit_accuracy, stamp.median_dwell_ms) == (1.0, 1.0, 400)
    assert stamp.fatigue_warning is not None and "100%" in stamp.fatigue_warning
    assert "50%" in stamp.fatigue_warning
    assert (care.agreement_rate, care.audit_accuracy, care.median_dwell_ms) == (0.5, 0.0, None)
    assert care.fatigue_warning is None


def test_without_a_minimum_dwell_nothing_is_fast_and_no_audit_means_null_accuracy():
    groups = [group("r", Tier.ANALYST_REVIEW, agreeing(3, 1), fast=3)]
    (stats,) = analytics.reviewer_stats(groups, {}, {"r": 30}, 0)
    assert (stats.fast_decisions, stats.audit_accuracy, stats.fatigue_warning) == (0, None, None)


def test_the_report_counts_automated_decisions_apart_and_can_show_one_reviewer():
    groups = [
        group("a", Tier.ANALYST_REVIEW, Tally(4, 2, 1, 0, 1), audited=2, audited_approvals=1),
        group("b", Tier.SENIOR_REVIEW, Tally(4, 1, 0, 1, 2)),
        group(None, Tier.AUTO_APPROVE, agreeing(7, 7)),
        group(None, Tier.BELOW_FLOOR, agreeing(3, 0)),
    ]
    report = analytics.divergence_report(
        "wf", Window.WEEK, NOW, groups, [], {}, {}, {}, 0, only_reviewer="b"
    )
    assert (report.decisions, report.automated_decisions) == (8, 10)
    assert (report.agreement_rate, report.override_rate) == (3 / 8, 3 / 8)
    assert (report.reject_rate, report.edit_rate) == (1 / 8, 1 / 8)
    assert report.auto_approve_precision == 0.5
    assert [(t.tier, t.decisions, t.agreement_rate) for t in report.by_tier] == [
        (Tier.ANALYST_REVIEW, 4, 0.5),
        (Tier.SENIOR_REVIEW, 4, 0.25),
    ]
    assert [r.reviewer_id for r in report.by_reviewer] == ["b"]
    assert len(report.series) == 7
    assert report.since == NOW - timedelta(days=7)


def test_an_empty_report_has_zero_rates_and_no_precision():
    report = analytics.divergence_report("wf", Window.QUARTER, NOW, [], [], {}, {}, {}, 0)
    assert (report.decisions, report.agreement_rate, report.auto_approve_precision) == (
        0,
        0.0,
        None,
    )
    assert [p.decisions for p in report.series] == [0] * 13


# ------------------------------------------------------------------ simulation


def test_simulation_shares_and_the_error_rate_of_would_be_auto_approvals():
    by_tier = {
        Tier.AUTO_APPROVE: Tally(decisions=4, approvals=3),
        Tier.ANALYST_REVIEW: Tally(decisions=3),
        Tier.SENIOR_REVIEW: Tally(decisions=2),
        Tier.BELOW_FLOOR: Tally(decisions=1),
    }
    sim = analytics.simulate(by_tier, EscalationPolicy(), 30)
    assert sim.decisions_replayed == 10
    assert (sim.auto_approve_share, sim.analyst_share) == (0.4, 0.3)
    assert (sim.senior_share, sim.below_floor_share) == (0.2, 0.1)
    assert sim.estimated_auto_error_rate == 0.25
    assert sim.estimated_reviews_per_day == pytest.approx(5 / 30)


def test_the_expected_audit_sample_moves_would_be_auto_approvals_to_analysts():
    by_tier = {Tier.AUTO_APPROVE: Tally(decisions=10, approvals=10)}
    sim = analytics.simulate(by_tier, EscalationPolicy(audit_sample_rate=0.2), 7)
    assert sim.auto_approve_share == pytest.approx(0.8)
    assert sim.analyst_share == pytest.approx(0.2)
    assert sim.estimated_auto_error_rate == 0.0
    assert sim.estimated_reviews_per_day == pytest.approx(2 / 7)


def test_simulating_nothing_gives_zeros_and_no_error_rate():
    sim = analytics.simulate({}, EscalationPolicy(), 91)
    assert (sim.decisions_replayed, sim.auto_approve_share, sim.estimated_reviews_per_day) == (
        0,
        0.0,
        0.0,
    )
    assert sim.estimated_auto_error_rate is None


def test_a_proposed_policy_is_merged_and_validated_naming_the_field():
    current = EscalationPolicy(version=3, min_dwell_ms=500)
    proposed = analytics.proposed_policy(current, {"auto_approve_at": 0.95})
    assert (proposed.auto_approve_at, proposed.min_dwell_ms) == (0.95, 500)
    with pytest.raises(InvalidInputError) as raised:
        analytics.proposed_policy(current, {"analyst_at": 0.95})
    assert raised.value.field == "analystAt"
    with pytest.raises(InvalidInputError) as raised:
        analytics.proposed_policy(current, {"senior_at": None})
    assert raised.value.field == "seniorAt"


# ------------------------------------------------------------------ rights


def test_services_read_no_analytics_and_analysts_read_their_tiers_and_own_row():
    with pytest.raises(ForbiddenError):
        analytics.analytics_scope(Role.SERVICE, "svc", "reading divergence")
    analyst = analytics.analytics_scope(Role.ANALYST, "ana", "reading divergence")
    assert analyst.tiers == {Tier.AUTO_APPROVE, Tier.ANALYST_REVIEW}
    assert analyst.only_reviewer == "ana"
    for role in (Role.SENIOR, Role.ADMIN):
        scope = analytics.analytics_scope(role, "x", "reading divergence")
        assert scope.tiers == set(Tier) and scope.only_reviewer is None


def test_only_seniors_and_admins_simulate_policies():
    for role in (Role.SERVICE, Role.ANALYST):
        with pytest.raises(ForbiddenError):
            analytics.require_simulation_rights(role)
    analytics.require_simulation_rights(Role.SENIOR)
    analytics.require_simulation_rights(Role.ADMIN)
