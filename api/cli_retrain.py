"""`arbiter retrain WORKFLOW`: run a RETRAIN job in this process and show its steps.

The steps are the job's progress messages on the event bus, shown once each in the
order they arrive; the job's final state comes after the last of them. On a terminal
they are a bar on standard error, redrawn in place; otherwise one line per step on
standard output, so that a log keeps them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import sys
from collections.abc import Iterator
from typing import Any, TextIO

from api.cli_errors import CliError
from api.settings import Settings
from domain.messages import MessageError, MessageType, decode_job

FOLLOW_SECONDS = 10.0
"""How long to wait, after the job ended, for its last messages to come back from Redis."""
INSUFFICIENT = "InsufficientData: "
LABEL_COUNT = re.compile(r"\bclassifier: (\d+) labelled decisions; at least \d+ are needed")


class Steps:
    """Shows each step once, in the order given."""

    def __init__(self, stream: TextIO | None = None, width: int = 30) -> None:
        self.stream = stream
        self.width = width
        self.shown: tuple[float, str] | None = None
        self.drawn = False

    @property
    def bar(self) -> bool:
        stream = self.stream or sys.stderr
        return stream.isatty()

    def show(self, fraction: float, message: str) -> None:
        step = (fraction, message)
        if step == self.shown:
            return
        self.shown = step
        if self.bar:
            filled = round(fraction * self.width)
            line = f"[{'#' * filled}{'.' * (self.width - filled)}] {fraction:4.0%} {step[1]}"
            stream = self.stream or sys.stderr
            stream.write("\r" + line[:120].ljust(120))
            self.drawn = True
        else:
            stream = self.stream or sys.stdout
            stream.write(f"{fraction:4.0%} {step[1]}\n")
        stream.flush()

    def end(self) -> None:
        """End the bar's line, so that what comes next starts on a line of its own."""
        if self.drawn:
            stream = self.stream or sys.stderr
            stream.write("\n")
            stream.flush()
            self.drawn = False


async def follow(subscription: Any, job_id: str, steps: Steps) -> None:
    """Show the job's progress as it arrives, until a message says it ended."""
    async for envelope in subscription:
        if envelope.type != MessageType.JOB:
            continue
        try:
            job = decode_job(envelope.data)
        except MessageError:  # from a newer replica; its progress is only for show
            continue
        if job.id != job_id:
            continue
        if job.finished:
            return
        if job.message:  # not the claim, which has nothing to say yet
            steps.show(job.progress, job.message)


async def retrain(settings: Settings, key: str, verbose: bool = False) -> int:
    """Run a RETRAIN job for workflow `key` here, showing its steps; 0 when it succeeded."""
    from api.services import Services
    from domain.clock import utcnow
    from domain.jobs import Job, JobKind
    from workers.bus import RedisBus
    from workers.execute import execute_job

    services = Services.from_settings(settings)
    steps = Steps()
    try:
        async with services.unit_of_work() as uow:
            workflow = await uow.workflows.by_key(key)
            if workflow is None:
                raise CliError(
                    f"no workflow with key {key!r} (keys are as given to createWorkflow, "
                    "e.g. loans)"
                )
            job = Job.new(JobKind.RETRAIN, utcnow(), workflow_id=workflow.id, requested_by="cli")
            await uow.jobs.add(job)
            await uow.commit()
        await services.bus.start()
        if isinstance(services.bus, RedisBus):  # hear our own messages from the start
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(services.bus.connected.wait(), FOLLOW_SECONDS)
        subscription = services.bus.subscribe()
        printer = asyncio.create_task(follow(subscription, job.id, steps))
        try:
            with _job_failures_reported_here(verbose):
                await execute_job(services, job.id)
            # In-process, everything the job published is queued already; through Redis
            # it is on its way back.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(printer), FOLLOW_SECONDS)
        finally:
            printer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await printer
            subscription.close()
        async with services.unit_of_work() as uow:
            done = await uow.jobs.get(job.id)
        assert done is not None
    finally:
        steps.end()
        await services.bus.stop()
        await services.database.dispose()
    if done.state.value == "SUCCEEDED":
        print(f"SUCCEEDED: {done.message}")
        return 0
    raise outcome_error(workflow.key, done.message or "")


def outcome_error(key: str, message: str) -> CliError:
    """The one line for a RETRAIN job that failed with `message`."""
    from ml.classifier import MIN_EXAMPLES

    if not message.startswith(INSUFFICIENT):
        return CliError(f"retraining workflow {key} failed: {message}", status=1)
    reason = message.removeprefix(INSUFFICIENT)
    hint = "(approve, reject or override more items first)"
    count = LABEL_COUNT.search(reason)
    if count is not None:
        return CliError(
            f"workflow {key} has {count.group(1)} labelled decisions; retraining needs at "
            f"least {MIN_EXAMPLES} {hint}"
        )
    return CliError(f"workflow {key} cannot be retrained yet: {reason} {hint}")


@contextlib.contextmanager
def _job_failures_reported_here(verbose: bool) -> Iterator[None]:
    """The job logs its failure with a traceback; here the command says how it ended
    instead, in one line (with --verbose, the log is shown as well)."""
    log = logging.getLogger("arbiter.jobs")

    def silence(_: logging.LogRecord) -> bool:
        return False

    if not verbose:
        log.addFilter(silence)
    try:
        yield
    finally:
        log.removeFilter(silence)
