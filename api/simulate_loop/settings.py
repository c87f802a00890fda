"""What a simulated loop runs with, and the checks that refuse bad arguments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ml.worlds import RULES

START = datetime(2025, 1, 6, tzinfo=UTC)
"""The first simulated month begins here (a Monday)."""
MONTH = timedelta(days=30)
DAYS_PER_MONTH = 30
SHIFT_DAY = DAYS_PER_MONTH // 2
"""The day of `shift_month` (0-based) from which its cases follow `shift_world`."""
MAX_MONTHS = 24
MAX_CASES_PER_MONTH = 30_000


class LoopInputError(ValueError):
    """An argument the simulation cannot run with; the message says which and why."""


@dataclass(frozen=True)
class LoopSettings:
    """One simulated loop: the world, its size, the guarantee the ladder is held to."""

    months: int = 6
    cases_per_month: int = 1000
    seed: int = 1
    world: str = "young_healthcare"
    max_auto_approve_error: float = 0.10
    """recommendThreshold's target. People's labels disagree with even the Bayes rule
    about 5% of the time here (the world's 3% noise and the reviewers' slips), so a month's
    evidence cannot guarantee much below that."""
    confidence_level: float = 0.95
    audit_sample_rate: float = 0.2
    """Each retrained model that is promoted starts its evidence afresh; above the ladder's
    threshold only this sample speaks for it (10% left the ladder climbing back in month 5
    of seed 1: about 100 labels a month were too few)."""
    analysts: int = 3
    threshold_every_days: int = 7
    """recommendThreshold is asked every this many simulated days, and at each month's end."""
    training_threads: int = 2
    shift_month: int | None = None
    """From the middle of this month (1-based; SHIFT_DAY) on, the world's planted rule is
    `shift_world` instead: the world changes under the model that serves (drift)."""
    shift_world: str = "high_debt_retail"
    database: Path | None = None
    """Keep the simulation's SQLite database here (a new file), its months ending today, so
    that `arbiter serve` on it shows the loop in the console; None: a scratch database,
    its months from START."""

    @property
    def start(self) -> datetime:
        """When the first simulated month begins: START, or with `database` the midnight
        (UTC) `months` simulated months before today's, so that the last ends today."""
        if self.database is None:
            return START
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        return today - self.months * MONTH

    def validate(self) -> None:
        """Raise LoopInputError naming the first argument out of range."""
        if not 1 <= self.months <= MAX_MONTHS:
            raise LoopInputError(f"--months must be between 1 and {MAX_MONTHS}, not {self.months}")
        if not DAYS_PER_MONTH <= self.cases_per_month <= MAX_CASES_PER_MONTH:
            raise LoopInputError(
                f"--cases-per-month must be between {DAYS_PER_MONTH} and "
                f"{MAX_CASES_PER_MONTH}, not {self.cases_per_month}"
            )
        if self.world not in RULES:
            raise LoopInputError(f"unknown world {self.world!r}; known: {', '.join(sorted(RULES))}")
        if not 0.0 < self.max_auto_approve_error < 1.0:
            raise LoopInputError("--max-auto-approve-error must be between 0 and 1 (exclusive)")
        if not 0.5 < self.confidence_level < 1.0:
            raise LoopInputError("--confidence-level must be between 0.5 and 1 (exclusive)")
        if not 0.0 <= self.audit_sample_rate <= 1.0:
            raise LoopInputError("--audit-sample-rate must be between 0 and 1")
        if self.seed < 0:
            raise LoopInputError("--seed must be 0 or more")
        if not 1 <= self.training_threads <= 64:
            raise LoopInputError("--threads must be between 1 and 64")
        if self.shift_month is not None:
            if not 2 <= self.shift_month <= self.months:
                raise LoopInputError(
                    f"--shift-month must be between 2 and --months ({self.months}), "
                    f"not {self.shift_month}"
                )
            if self.shift_world not in RULES or self.shift_world == self.world:
                raise LoopInputError(
                    f"--shift-world must be another known world than {self.world!r}; "
                    f"known: {', '.join(sorted(RULES))}"
                )
        if self.database is not None and self.database.exists():
            raise LoopInputError(
                f"--database {self.database} exists; the simulation writes a new database"
            )
        if self.database is not None and not self.database.parent.is_dir():
            raise LoopInputError(f"--database {self.database}: no directory {self.database.parent}")
        if self.analysts < 1 or self.threshold_every_days < 1:
            raise LoopInputError("at least one analyst, and a threshold check every day or more")

    def rule_of(self, month: int, day: int = 0) -> str:
        """The planted rule on day `day` of month `month` (both 0-based): the shift happens
        halfway through `shift_month`, while the model promoted before it serves."""
        if self.shift_month is None:
            return self.world
        if (month + 1, day) >= (self.shift_month, SHIFT_DAY):
            return self.shift_world
        return self.world


def driver_key(settings: LoopSettings) -> str:
    """The key of the workflow the simulation creates ("loop-young-healthcare")."""
    return f"loop-{settings.world.replace('_', '-')}"
