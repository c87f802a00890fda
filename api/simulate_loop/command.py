"""`arbiter simulate-loop --months 6 --cases-per-month N --seed S --out DIR`: run the loop on a
generated world and write DIR/loop.json, DIR/loop.md and DIR/loop.png; the table goes to
standard output too. Bad arguments are one line on standard error and exit status 2."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from api.cli_errors import CliError
from api.simulate_loop.settings import LoopInputError, LoopSettings, driver_key


def arguments(command: argparse.ArgumentParser) -> None:
    defaults = LoopSettings()
    command.add_argument("--months", type=int, default=defaults.months, help="default 6")
    command.add_argument(
        "--cases-per-month", type=int, default=defaults.cases_per_month, help="default 1000"
    )
    command.add_argument("--seed", type=int, default=defaults.seed, help="default 1")
    command.add_argument(
        "--world",
        default=defaults.world,
        help="the planted rule: young_healthcare (default), high_debt_retail, foreign_unverified",
    )
    command.add_argument(
        "--max-auto-approve-error",
        type=float,
        default=defaults.max_auto_approve_error,
        help="recommendThreshold's target (default 0.1)",
    )
    command.add_argument(
        "--confidence-level", type=float, default=defaults.confidence_level, help="default 0.95"
    )
    command.add_argument(
        "--audit-sample-rate",
        type=float,
        default=defaults.audit_sample_rate,
        help="share of would-be auto-approvals people review (default 0.2)",
    )
    command.add_argument(
        "--threads", type=int, default=defaults.training_threads, help="LightGBM threads (2)"
    )
    command.add_argument(
        "--shift-month",
        type=int,
        default=None,
        help="from the middle of this month the planted rule changes (drift); default never",
    )
    command.add_argument(
        "--shift-world",
        default=defaults.shift_world,
        help="the planted rule from --shift-month on (default high_debt_retail)",
    )
    command.add_argument("--out", type=Path, default=Path("loop"), help="default ./loop")
    command.add_argument(
        "--database",
        type=Path,
        default=None,
        help="keep the simulation's SQLite database in this new file, its months ending "
        "today, to open with `arbiter serve` (the console's Learning screen shows the loop "
        "by month); default: a scratch database, months from 2025-01-06",
    )


def settings_from(args: argparse.Namespace) -> LoopSettings:
    """The LoopSettings the arguments ask for; LoopInputError when one is out of range."""
    settings = LoopSettings(
        months=args.months,
        cases_per_month=args.cases_per_month,
        seed=args.seed,
        world=args.world,
        max_auto_approve_error=args.max_auto_approve_error,
        confidence_level=args.confidence_level,
        audit_sample_rate=args.audit_sample_rate,
        training_threads=args.threads,
        shift_month=args.shift_month,
        shift_world=args.shift_world,
        database=args.database,
    )
    settings.validate()
    return settings


def simulate_loop(args: argparse.Namespace) -> int:
    from api.simulate_loop.run import run_loop

    try:
        settings = settings_from(args)
    except LoopInputError as error:
        raise CliError(str(error)) from error
    if args.out.exists() and not args.out.is_dir():
        raise CliError(f"--out {args.out} is a file, not a directory")
    report = asyncio.run(run_loop(settings, say=lambda line: print(line, flush=True)))
    paths = report.write(args.out)
    print()
    print(report.markdown(), end="")
    print(f"\nwrote {', '.join(str(p) for p in paths)} in {report.seconds:.0f} s")
    if settings.database is not None:
        print(
            f"kept the database: ARBITER_DATABASE_URL=sqlite+aiosqlite:///"
            f"{settings.database.resolve()} arbiter serve, then the console's Learning "
            f"screen of workflow {driver_key(settings)} shows the loop by month"
        )
    return 0
