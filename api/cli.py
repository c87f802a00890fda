"""The `arbiter` command: serve, worker, migrate, users create, audit verify, schema."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from api.settings import get_settings
from domain.enums import Role
from domain.errors import DomainError


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app
    from api.log_setup import configure_logging

    settings = get_settings()
    configure_logging(settings.log_json)
    uvicorn.run(
        create_app(settings),
        host=args.host or settings.host,
        port=args.port or settings.port,
        log_config=None,
        proxy_headers=False,
    )
    return 0


def _worker(args: argparse.Namespace) -> int:
    from arq import run_worker

    from api.log_setup import configure_logging
    from api.services import runtime_options
    from workers.worker import worker_settings

    settings = get_settings()
    configure_logging(settings.log_json)
    if not settings.redis_url:
        print(
            "error: arbiter worker needs ARBITER_REDIS_URL (without Redis, `arbiter serve` "
            "runs jobs and the SLA sweep in-process)",
            file=sys.stderr,
        )
        return 2
    settings_cls = worker_settings(
        settings.database_url, settings.redis_url, runtime_options(settings)
    )
    run_worker(settings_cls, burst=args.burst)  # type: ignore[arg-type]
    return 0


async def _retrain(key: str) -> int:
    from api.services import Services
    from domain.clock import utcnow
    from domain.jobs import Job, JobKind
    from workers.execute import execute_job

    services = Services.from_settings(get_settings())
    try:
        async with services.unit_of_work() as uow:
            workflow = await uow.workflows.by_key(key)
            if workflow is None:
                print(f"error: no workflow with key {key!r}", file=sys.stderr)
                return 1
            job = Job.new(JobKind.RETRAIN, utcnow(), workflow_id=workflow.id, requested_by="cli")
            await uow.jobs.add(job)
            await uow.commit()
        subscription = services.bus.subscribe()

        async def show_progress() -> None:
            async for envelope in subscription:
                if envelope.type == "job" and envelope.data.get("id") == job.id:
                    _progress_bar(float(envelope.data["progress"]), envelope.data.get("message"))

        printer = asyncio.create_task(show_progress())
        await execute_job(services, job.id)
        printer.cancel()
        subscription.close()
        async with services.unit_of_work() as uow:
            done = await uow.jobs.get(job.id)
        assert done is not None
        print(f"\n{done.state.value}: {done.message}")
        return 0 if done.state.value == "SUCCEEDED" else 1
    finally:
        await services.database.dispose()


def _progress_bar(fraction: float, message: str | None, width: int = 30) -> None:
    filled = round(fraction * width)
    line = f"\r[{'#' * filled}{'.' * (width - filled)}] {fraction:4.0%} {message or ''}"
    sys.stderr.write(line[:120].ljust(120))
    sys.stderr.flush()


def _retrain_command(args: argparse.Namespace) -> int:
    return asyncio.run(_retrain(args.workflow))


async def _demo() -> int:
    from api.demo import run_demo
    from api.services import Services

    settings = get_settings()
    services = Services.from_settings(settings)
    try:
        result = await run_demo(services)
    finally:
        await services.database.dispose()
    print(
        f"\nOpen http://{settings.host}:{settings.port}/graphql (make run), put\n"
        f'  {{"Authorization": "Bearer {result["token"]}"}}\n'
        "in the Headers panel and try:\n"
        f'  {{ feedbackReport(workflow: "{result["workflow"]}") {{ message }}\n'
        f'    overrideThemes(workflow: "{result["workflow"]}") {{ themes {{ label share conditions '
        "suggestedFeature examples } }\n"
        f'    workflow(key: "{result["workflow"]}") {{ activeModel {{ version features metrics '
        "{ accuracy baselineAccuracy calibrationError } } } }\n"
        "The admin's bearer token (shown once):"
    )
    print(result["token"])
    return 0


def _demo_command(_: argparse.Namespace) -> int:
    return asyncio.run(_demo())


def migrate(database_url: str) -> None:
    """Upgrade the database at `database_url` to the newest schema."""
    from alembic import command

    from migrations import alembic_config

    command.upgrade(alembic_config(database_url), "head")


def _migrate(_: argparse.Namespace) -> int:
    migrate(get_settings().database_url)
    print("database is at the newest schema")
    return 0


async def _create_user(name: str, role: Role) -> str:
    from domain.usecases.accounts import create_user
    from store.database import connect
    from workers.runtime import Runtime

    database = connect(get_settings().database_url)
    try:
        user, token = await Runtime(database).run(create_user, None, name, role)
    finally:
        await database.dispose()
    print(f"created {user.role.value.lower()} {user.name!r} ({user.id}); its bearer token:")
    return token


def _users_create(args: argparse.Namespace) -> int:
    try:
        token = asyncio.run(_create_user(args.name, Role(args.role.upper())))
    except DomainError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 1
    print(token)
    return 0


async def _verify() -> int:
    from store.audit_log import verify_log
    from store.database import connect

    database = connect(get_settings().database_url)
    try:
        reports = await verify_log(database)
    finally:
        await database.dispose()
    broken = 0
    for report in reports:
        if report.problem is None:
            print(f"ok      {report.workflow_key}: {report.records} records, chain holds")
        else:
            broken += 1
            p = report.problem
            print(
                f"BROKEN  {report.workflow_key}: record {p.seq} (decision {p.decision_id}): "
                f"{p.problem}"
            )
    if not reports:
        print("no workflows, nothing to verify")
    return 1 if broken else 0


def _audit_verify(_: argparse.Namespace) -> int:
    return asyncio.run(_verify())


def _schema(args: argparse.Namespace) -> int:
    from api.possible_types import possible_types_json
    from api.schema import sdl

    sys.stdout.write(possible_types_json() if args.possible_types else sdl())
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="arbiter", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the GraphQL API")
    serve.add_argument("--host", help="default ARBITER_HOST or 127.0.0.1")
    serve.add_argument("--port", type=int, help="default ARBITER_PORT or 8000")
    serve.set_defaults(run=_serve)

    worker = commands.add_parser("worker", help="run an arq worker (needs ARBITER_REDIS_URL)")
    worker.add_argument("--burst", action="store_true", help="stop when the queue is empty")
    worker.set_defaults(run=_worker)

    retrain = commands.add_parser("retrain", help="retrain a workflow's model now")
    retrain.add_argument("workflow", help="the workflow's key")
    retrain.set_defaults(run=_retrain_command)

    commands.add_parser(
        "demo", help="seed a generated world, decide it, mine themes and retrain"
    ).set_defaults(run=_demo_command)

    commands.add_parser("migrate", help="upgrade the database to the newest schema").set_defaults(
        run=_migrate
    )

    users = commands.add_parser("users", help="manage users").add_subparsers(
        dest="users_command", required=True
    )
    create = users.add_parser("create", help="create a user; prints its token last")
    create.add_argument("name")
    create.add_argument(
        "--role", required=True, choices=[r.value.lower() for r in Role], type=str.lower
    )
    create.set_defaults(run=_users_create)

    audit = commands.add_parser("audit", help="the decision log").add_subparsers(
        dest="audit_command", required=True
    )
    audit.add_parser("verify", help="check the log's hash chains").set_defaults(run=_audit_verify)

    schema = commands.add_parser("schema", help="print the GraphQL SDL")
    schema.add_argument("--possible-types", action="store_true", help="print possible-types.json")
    schema.set_defaults(run=_schema)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
