"""The loop, month by month, as the decision log tells it: per calendar month (UTC), the
work that came in, how much of it people still had to decide, how often they agreed
with the proposals, what the audit samples say about the auto-approvals' error, which
model proposed, which versions were promoted and which drift alarms went off.

What counts is domain.analytics' rule (no FLAG, UNDO or REQUEST_MORE_DATA, nothing
undone, no canary); a month's decisions are those made in it, whenever their item came.
The auto-approve error is estimated from audit samples only (would-be auto-approvals a
person decided), the one unbiased view of it the log has: the share of them the person
did not approve, with how many there were.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from domain.analytics import Tally, share
from domain.errors import InvalidInputError

MAX_MONTHS = 24
"""learningByMonth reads at most this many months back."""


@dataclass
class MonthCounts:
    """What the store counts for one month: human counted decisions, automated approvals,
    audit samples decided, items submitted per proposing model version, model versions
    promoted, drift alarms raised."""

    human: Tally = field(default_factory=Tally)
    automated_approvals: int = 0
    audited: int = 0
    audited_approvals: int = 0
    submitted: dict[str, int] = field(default_factory=dict)  # model version ("" = none)
    promoted: list[str] = field(default_factory=list)
    drift_alarms: int = 0


@dataclass(frozen=True)
class LearningMonth:
    start: datetime
    end: datetime  # exclusive: the next month's start
    submitted: int
    human_decisions: int
    automated_approvals: int
    agreement_rate: float | None  # of human decisions; None when there were none
    override_rate: float | None
    automated_share: float | None  # automated approvals among all counted decisions
    audited: int
    auto_approve_error: float | None  # audit samples not approved; None without any
    proposing_versions: list[str]  # busiest first; "" is an item without a modelVersion
    promoted: list[str]
    drift_alarms: int


def month_starts(now: datetime, months: int) -> list[datetime]:
    """The starts of the last `months` calendar months (UTC), the current one last, then
    the next month's start (the end of the last bucket). InvalidInputError outside
    1..MAX_MONTHS."""
    if not 1 <= months <= MAX_MONTHS:
        raise InvalidInputError(f"months must be between 1 and {MAX_MONTHS}", "months")
    moment = now.astimezone(UTC)
    index = moment.year * 12 + moment.month - 1 - (months - 1)
    return [datetime(i // 12, i % 12 + 1, 1, tzinfo=UTC) for i in range(index, index + months + 1)]


def learning_months(
    starts: Sequence[datetime], counts: Mapping[int, MonthCounts]
) -> list[LearningMonth]:
    """One LearningMonth per bucket of `starts` (see month_starts), oldest first; a month
    the store found nothing in is all zeros."""
    found = []
    for index, (start, end) in enumerate(itertools.pairwise(starts)):
        c = counts.get(index, MonthCounts())
        human = c.human.decisions
        found.append(
            LearningMonth(
                start=start,
                end=end,
                submitted=sum(c.submitted.values()),
                human_decisions=human,
                automated_approvals=c.automated_approvals,
                agreement_rate=share(c.human.approvals, human),
                override_rate=share(c.human.overrides, human),
                automated_share=share(c.automated_approvals, human + c.automated_approvals),
                audited=c.audited,
                auto_approve_error=share(c.audited - c.audited_approvals, c.audited),
                proposing_versions=[
                    v for v, _ in sorted(c.submitted.items(), key=lambda kv: (-kv[1], kv[0]))
                ],
                promoted=list(c.promoted),
                drift_alarms=c.drift_alarms,
            )
        )
    return found
