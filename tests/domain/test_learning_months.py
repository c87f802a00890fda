"""The loop by month: calendar months in UTC and what a month's counts mean."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from domain.analytics import Tally
from domain.errors import InvalidInputError
from domain.learning_months import MAX_MONTHS, MonthCounts, learning_months, month_starts


def test_months_are_calendar_months_in_utc_ending_with_the_current_one() -> None:
    now = datetime(2026, 2, 14, 9, 30, tzinfo=UTC)
    assert month_starts(now, 3) == [
        datetime(2025, 12, 1, tzinfo=UTC),
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2026, 2, 1, tzinfo=UTC),
        datetime(2026, 3, 1, tzinfo=UTC),
    ]


def test_a_moment_at_another_offset_falls_in_its_utc_month() -> None:
    # 1 March 01:00 at +05:00 is still 28 February in UTC.
    now = datetime(2026, 3, 1, 1, 0, tzinfo=timezone(timedelta(hours=5)))
    assert month_starts(now, 1) == [
        datetime(2026, 2, 1, tzinfo=UTC),
        datetime(2026, 3, 1, tzinfo=UTC),
    ]


@pytest.mark.parametrize("months", [0, -1, MAX_MONTHS + 1])
def test_months_outside_the_range_are_refused_naming_the_field(months: int) -> None:
    with pytest.raises(InvalidInputError) as refused:
        month_starts(datetime(2026, 2, 14, tzinfo=UTC), months)
    assert refused.value.field == "months"


def test_a_month_reads_its_counts_as_rates_and_an_empty_one_as_zeros_and_nulls() -> None:
    starts = month_starts(datetime(2026, 2, 14, tzinfo=UTC), 2)
    counts = {
        1: MonthCounts(
            human=Tally(decisions=10, approvals=7, rejections=1, overrides=2),
            automated_approvals=30,
            audited=4,
            audited_approvals=3,
            submitted={"v1": 5, "": 20, "v2": 20},
            promoted=["v2"],
            drift_alarms=1,
        )
    }
    empty, busy = learning_months(starts, counts)
    assert (empty.submitted, empty.human_decisions, empty.automated_approvals) == (0, 0, 0)
    assert empty.agreement_rate is None and empty.automated_share is None
    assert empty.auto_approve_error is None and empty.proposing_versions == []
    assert (busy.start, busy.end) == (starts[1], starts[2])
    assert busy.submitted == 45
    assert busy.agreement_rate == 0.7 and busy.override_rate == 0.2
    assert busy.automated_share == 30 / 40
    assert (busy.audited, busy.auto_approve_error) == (4, 0.25)
    assert busy.proposing_versions == ["", "v2", "v1"]  # busiest first, ties by name
    assert (busy.promoted, busy.drift_alarms) == (["v2"], 1)
