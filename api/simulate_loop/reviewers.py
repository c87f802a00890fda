"""Simulated reviewers: they know the generator's truth, make planted mistakes, and tire.

A reviewer's call on an item is the careful human's action (`WorldCase.true_action`),
except with probability `error_rate`, which starts at `base_error` and grows by
`fatigue_per_decision` with every decision already made in the current run (a day's
session), up to `max_error`. A mistake approves a wrong proposal (rubber-stamping) or
overrides a right one. Overrides carry a reason written as people write them: the world's
own phrasing of the planted concern when there is one, otherwise one of its everyday
reasons for the chosen action.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from ml.worlds import CONCERN_REASONS, NOISE_REASONS, WorldCase


@dataclass(frozen=True)
class Fatigue:
    """How error grows along a reviewer's run."""

    base_error: float = 0.01
    fatigue_per_decision: float = 0.0003
    max_error: float = 0.10

    def error_rate(self, run_length: int) -> float:
        """The chance of a mistake on the next call, after `run_length` calls in this run."""
        return min(self.max_error, self.base_error + self.fatigue_per_decision * run_length)


@dataclass(frozen=True)
class Call:
    """What a reviewer does with an item: approve it, or override it with an action and
    a reason. `mistaken` when the action taken is not the generator's truth."""

    approve: bool
    action: str
    reason: str | None
    mistaken: bool


class Reviewer:
    """One simulated person with a token; `start_run()` begins a session (a day)."""

    def __init__(
        self, name: str, token: str, rule: str, fatigue: Fatigue, rng: random.Random
    ) -> None:
        self.name, self.token, self.rule = name, token, rule
        self.fatigue, self.rng = fatigue, rng
        self.run_length = 0

    def start_run(self) -> None:
        self.run_length = 0

    def call(self, case: WorldCase, proposed: str, actions: tuple[str, ...]) -> Call:
        """Decide on `proposed` for `case`; the run grows by one."""
        slip = self.rng.random() < self.fatigue.error_rate(self.run_length)
        self.run_length += 1
        right = case.true_action
        if proposed == right:
            if not slip:
                return Call(True, proposed, None, False)
            wrong = self.rng.choice([a for a in actions if a != right])
            return Call(False, wrong, everyday_reason(wrong, self.rng), True)
        if slip:
            return Call(True, proposed, None, True)
        return Call(False, right, reason_for(case, proposed, self.rule, self.rng), False)


def everyday_reason(action: str, rng: random.Random) -> str:
    """One of the world's reasons for `action` that are not about its planted concern."""
    return rng.choice(NOISE_REASONS[action])


def reason_for(case: WorldCase, proposed: str, rule: str, rng: random.Random) -> str:
    """Why a person overrides `proposed` with the case's true action: the world's own
    reason when the proposal is the upstream one it was written for; a phrasing of the
    world's planted concern (`rule`) when the case is planted and the truth is the rule's;
    else an everyday reason."""
    if case.reason is not None and proposed == case.upstream_action:
        return case.reason
    if case.planted and case.true_action == case.bayes_action:
        return _filled(rng.choice(CONCERN_REASONS[rule]), case)
    return everyday_reason(case.true_action, rng)


def _filled(template: str, case: WorldCase) -> str:
    age = case.payload.get("company_age_years")
    debt = case.payload.get("debt_ratio")
    return template.format(
        age=age if age is not None else "?",
        months=max(1, round(age * 12)) if age is not None else "a few",
        debt=debt if debt is not None else "?",
        pct=round(debt * 100) if debt is not None else "?",
    )
