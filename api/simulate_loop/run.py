"""One simulated loop, start to end: a scratch SQLite database (or a kept one,
--database), the app in process under a simulated clock, the driver's months, and the
report."""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from api.settings import Settings
from api.simulate_loop.client import InProcessApi
from api.simulate_loop.driver import LoopDriver
from api.simulate_loop.report import LoopReport
from api.simulate_loop.settings import LoopSettings
from domain.clock import ManualClock, using_clock
from domain.enums import Role
from domain.usecases.accounts import create_user

SWEEP_SECONDS = 2.0
"""The SLA sweep (and with it the drift monitor) runs every 2 s of real time, so that a
simulated month, which lasts a minute or so, is swept many times."""

DRIFT_WINDOW = 100
"""Decisions per tier in each of the drift monitor's windows (ARBITER_DRIFT_WINDOW): a few
hundred human decisions a month look at a tier a few times a month."""


async def run_loop(settings: LoopSettings, say: Callable[[str], None] = print) -> LoopReport:
    """Run `settings.months` simulated months and measure each (see api.simulate_loop)."""
    settings.validate()
    from api.cli import migrate

    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="arbiter-loop-") as scratch:
        path = settings.database or Path(scratch) / "loop.db"
        url = f"sqlite+aiosqlite:///{path.resolve()}"
        await asyncio.to_thread(migrate, url)
        app_settings = Settings(
            database_url=url,
            sla_sweep_seconds=SWEEP_SECONDS,
            drift_window=DRIFT_WINDOW,
            training_threads=settings.training_threads,
            console=False,
            graphiql=False,
        )
        clock = ManualClock(settings.start)
        with using_clock(clock):
            async with InProcessApi(app_settings) as api:
                services = api.app.state.services
                # The operator's first step, as `arbiter users create loop-admin --role admin`.
                _, admin = await services.run(create_user, None, "loop-admin", Role.ADMIN)
                driver = LoopDriver(api, clock, settings, admin, say)
                await driver.open()
                async with api.model_events(driver.key, admin) as feed:
                    months = [await driver.month(m, feed) for m in range(settings.months)]
    return LoopReport(settings, months, time.perf_counter() - began)
