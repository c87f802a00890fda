"""The retraining schedule: five-field cron expressions and when they fire next."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from workers.schedule import arq_cron, next_fire, parse_cron
from workers.worker import cron_schedule

NOW = datetime(2026, 11, 24, 10, 7, 30, tzinfo=UTC)  # a Tuesday


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("0 3 1 * *", datetime(2026, 12, 1, 3, 0, tzinfo=UTC)),  # monthly, the default
        ("*/15 * * * *", datetime(2026, 11, 24, 10, 15, tzinfo=UTC)),
        ("30 2 * * 0", datetime(2026, 11, 30, 2, 30, tzinfo=UTC)),  # Mondays (0 = Monday)
        ("0 0 29 2 *", datetime(2028, 2, 29, 0, 0, tzinfo=UTC)),  # the next leap day
        ("8 10 24 11 *", datetime(2026, 11, 24, 10, 8, tzinfo=UTC)),  # in a minute
    ],
)
def test_the_next_fire_is_the_first_matching_minute_after_now(expression, expected):
    assert next_fire(expression, NOW) == expected


@pytest.mark.parametrize(
    "bad", ["", "* * * *", "60 * * * *", "* 24 * * *", "*/0 * * * *", "a * * * *"]
)
def test_a_malformed_expression_is_refused(bad):
    with pytest.raises(ValueError):
        parse_cron(bad)


def test_arq_gets_the_same_schedule_as_the_embedded_runner():
    assert arq_cron("0 3 1 * *") == {"second": 0, "minute": {0}, "hour": {3}, "day": {1}}
    assert cron_schedule(30) == {"second": {0, 30}}
    assert cron_schedule(1) == {"second": set(range(60))}


@pytest.mark.parametrize("never", ["0 0 31 2 *", "0 0 30 2 *", "0 0 31 4,6,9,11 *", "0 0 29 2 0"])
def test_an_expression_with_no_fire_within_five_years_never_fires(never):
    with pytest.raises(ValueError, match="never fires"):
        next_fire(never, NOW)
