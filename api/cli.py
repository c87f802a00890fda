"""The `arbiter` command: serve the API, run workers, migrate, retrain, manage users and keys.

Every command is one function, registered in COMMANDS (a group such as `users` also
in GROUPS). A mistake (bad settings, a database that is not there or not migrated, a
URL without its driver, too few labels to retrain) is answered with one line on
standard error and exit status 2; `--verbose` adds the traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import NoReturn

from api import cli_evidence, cli_keys, cli_store, cli_witness
from api.cli_errors import Need, check_cron, check_database, check_workers, explain, load_settings
from api.settings import get_settings
from api.simulate_loop import command as simulate_loop

# ------------------------------------------------------------------ commands


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app
    from api.log_setup import configure_logging

    settings = get_settings()
    check_cron(settings)
    check_workers(settings, args.workers)
    configure_logging(settings.log_json)
    several = args.workers > 1
    uvicorn.run(
        # Several processes each build their own app (engine, pools, sealer) from the
        # same settings, by the factory's import path; uvicorn shares the socket.
        "api.app:create_app" if several else create_app(settings),
        factory=several,
        workers=args.workers,
        host=args.host or settings.host,
        port=args.port or settings.port,
        log_config=None,
        proxy_headers=False,
    )
    return 0


def _serve_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("--host", help="default ARBITER_HOST or 127.0.0.1")
    command.add_argument("--port", type=int, help="default ARBITER_PORT or 8000")
    command.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes (default 1); more need PostgreSQL and ARBITER_REDIS_URL, "
        "so that every process hears every other's events",
    )


def _worker(args: argparse.Namespace) -> int:
    from arq import run_worker

    from api.cli_errors import check_redis
    from api.log_setup import configure_logging
    from api.services import runtime_options
    from workers.worker import worker_settings

    settings = get_settings()
    check_cron(settings)
    redis_url = check_redis(settings.redis_url)
    configure_logging(settings.log_json)
    settings_cls = worker_settings(settings.database_url, redis_url, runtime_options(settings))
    run_worker(settings_cls, burst=args.burst)  # type: ignore[arg-type]
    return 0


def _worker_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("--burst", action="store_true", help="stop when the queue is empty")


def migrate(database_url: str) -> None:
    """Upgrade the database at `database_url` to the newest schema."""
    from alembic import command

    from migrations import alembic_config

    command.upgrade(alembic_config(database_url), "head")


def _migrate(_: argparse.Namespace) -> int:
    migrate(get_settings().database_url)
    print("database is at the newest schema")
    return 0


def _retrain(args: argparse.Namespace) -> int:
    from api.cli_errors import ping_redis
    from api.cli_retrain import retrain

    settings = get_settings()
    if settings.redis_url:  # its progress travels through Redis
        ping_redis(settings.redis_url)
    return asyncio.run(retrain(settings, args.workflow, args.verbose))


def _retrain_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("workflow", help="the workflow's key")


async def _run_demo() -> int:
    from api.demo import run_demo
    from api.services import Services

    settings = get_settings()
    services = Services.from_settings(settings)
    try:
        result = await run_demo(services)
    finally:
        await services.database.dispose()
    key = result["workflow"]
    print(
        f"\nOpen http://{settings.host}:{settings.port}/graphql (make run), put\n"
        f'  {{"Authorization": "Bearer {result["token"]}"}}\n'
        "in the Headers panel and try:\n"
        f'  {{ feedbackReport(workflow: "{key}") {{ message }}\n'
        f'    overrideThemes(workflow: "{key}") {{ themes {{ label share conditions '
        "suggestedFeature examples } }\n"
        f'    workflow(key: "{key}") {{ activeModel {{ version features metrics '
        "{ accuracy baselineAccuracy calibrationError } } } }\n"
        "The admin's bearer token (shown once):"
    )
    print(result["token"])
    return 0


def _demo(_: argparse.Namespace) -> int:
    return asyncio.run(_run_demo())


def _schema(args: argparse.Namespace) -> int:
    from api.possible_types import possible_types_json
    from api.schema import sdl

    sys.stdout.write(possible_types_json() if args.possible_types else sdl())
    return 0


def _schema_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("--possible-types", action="store_true", help="print possible-types.json")


# ------------------------------------------------------------------ the registry


def _no_arguments(_: argparse.ArgumentParser) -> None:
    return None


@dataclass(frozen=True)
class Command:
    """One `arbiter` command: its words, its line in --help, what it does and needs."""

    words: str
    """As typed after `arbiter`: "serve", "users create"."""
    summary: str
    run: Callable[[argparse.Namespace], int]
    arguments: Callable[[argparse.ArgumentParser], None] = _no_arguments
    database: Need = Need.MIGRATED


COMMANDS: tuple[Command, ...] = (
    Command("serve", "serve the GraphQL API", _serve, _serve_arguments),
    Command(
        "worker",
        "run an arq worker: webhooks, the SLA sweep, retraining (needs ARBITER_REDIS_URL)",
        _worker,
        _worker_arguments,
    ),
    Command(
        "migrate",
        "create or upgrade the database to the newest schema",
        _migrate,
        database=Need.CREATABLE,
    ),
    Command(
        "retrain",
        "retrain a workflow's model now, with a progress bar",
        _retrain,
        _retrain_arguments,
    ),
    Command("demo", "seed a generated world, decide it, mine themes and retrain", _demo),
    Command(
        "simulate-loop",
        "run months of a generated world through the API; writes a table and a chart",
        simulate_loop.simulate_loop,
        simulate_loop.arguments,
        database=Need.NOTHING,  # its own scratch SQLite database
    ),
    Command(
        "users create",
        "create a user; prints its bearer token last",
        cli_store.users_create,
        cli_store.users_create_arguments,
    ),
    Command("users list", "list every user: name, role, id, created", cli_store.users_list),
    Command(
        "audit verify",
        "check the decision log's hash chains (exit 0 when they hold)",
        cli_store.audit_verify,
    ),
    Command(
        "audit export",
        "write one item's evidence pack: its decisions, proofs and a signed checkpoint",
        cli_evidence.audit_export,
        cli_evidence.audit_export_arguments,
    ),
    Command(
        "audit witness",
        "watch an Arbiter's signed checkpoints from outside; exit 1 when its log forks",
        cli_witness.audit_witness,
        cli_witness.audit_witness_arguments,
        database=Need.NOTHING,
    ),
    Command(
        "documents load",
        "register the trusted documents of a manifest (graphql-codegen, Relay)",
        cli_store.documents_load,
        cli_store.documents_load_arguments,
    ),
    Command(
        "keys create",
        "create the log signing key in ARBITER_LOG_SIGNING_KEY_FILE (mode 0600) when missing",
        cli_keys.keys_create,
        database=Need.NOTHING,
    ),
    Command(
        "keys show",
        "print the log signing key's public half (base64)",
        cli_keys.keys_show,
        database=Need.NOTHING,
    ),
    Command("schema", "print the GraphQL SDL", _schema, _schema_arguments, database=Need.NOTHING),
)
GROUPS = {
    "users": "manage users",
    "audit": "the decision log",
    "documents": "trusted documents",
    "keys": "the key that signs the decision log's checkpoints",
}


class _Parser(argparse.ArgumentParser):
    """Usage mistakes in one line, like every other mistake."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message} (see `{self.prog} --help`)\n")


def _version() -> str:
    try:
        return metadata.version("arbiter")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


def _listing() -> str:
    width = max(len(c.words) for c in COMMANDS) + 2
    lines = [f"  {c.words.ljust(width)}{c.summary}" for c in COMMANDS]
    return "commands:\n" + "\n".join(lines)


def parser() -> argparse.ArgumentParser:
    """The `arbiter` parser, built from COMMANDS and GROUPS."""
    root = _Parser(
        prog="arbiter",
        usage="arbiter [--verbose] COMMAND ...",
        description="A GraphQL backend for human-in-the-loop decisions.",
        epilog=_listing() + "\n\n`arbiter COMMAND --help` tells more about one.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    root.add_argument("--version", action="version", version=f"arbiter {_version()}")
    verbose_help = "on an error, show its traceback as well"
    root.add_argument("-v", "--verbose", action="store_true", help=verbose_help)
    below = root.add_subparsers(metavar="COMMAND", dest="command", required=True, prog="arbiter")
    below.help = argparse.SUPPRESS  # listed in the epilog, words and all
    groups: dict[str, argparse._SubParsersAction[_Parser]] = {}
    for command in COMMANDS:
        words = command.words.split()
        choices = below
        for depth, word in enumerate(words[:-1]):
            if word not in groups:
                group = choices.add_parser(word, help=GROUPS.get(word))
                groups[word] = group.add_subparsers(
                    metavar="COMMAND",
                    dest=f"command_{depth + 1}",
                    required=True,
                    prog=" ".join(["arbiter", *words[: depth + 1]]),
                )
            choices = groups[word]
        leaf = choices.add_parser(words[-1], help=command.summary, description=command.summary)
        leaf.add_argument(
            "-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help=verbose_help
        )
        command.arguments(leaf)
        leaf.set_defaults(spec=command)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    command: Command = args.spec
    url: str | None = None
    try:
        settings = load_settings()
        url = settings.database_url
        check_database(url, command.database)
        return int(command.run(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        if args.verbose:
            traceback.print_exception(error)
        mistake = explain(error, url)
        if mistake is None:
            more = "" if args.verbose else " (run with --verbose for the traceback)"
            lines = str(error).strip().splitlines() or [""]
            print(f"error: {type(error).__name__}: {lines[0]}{more}", file=sys.stderr)
            return 1
        print(f"error: {mistake.message}", file=sys.stderr)
        return mistake.status


if __name__ == "__main__":
    sys.exit(main())
