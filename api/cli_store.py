"""The `arbiter` commands that read or write the store directly: users create, users
list, audit verify (registered in api.cli.COMMANDS)."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC

from api.settings import get_settings
from domain.enums import Role


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


def users_create(args: argparse.Namespace) -> int:
    """`arbiter users create NAME --role ROLE`: the new user's bearer token, last."""
    print(asyncio.run(_create_user(args.name, Role(args.role.upper()))))
    return 0


def users_create_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("name")
    command.add_argument(
        "--role", required=True, choices=[r.value.lower() for r in Role], type=str.lower
    )


async def _users() -> list[list[str]]:
    from store.database import connect
    from store.people import SqlUsers

    database = connect(get_settings().database_url)
    try:
        async with database.read_sessions()() as session:
            users = await SqlUsers(session).all()
    finally:
        await database.dispose()
    return [
        [
            user.name,
            user.role.value.lower(),
            user.id,
            user.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        ]
        for user in users
    ]


def users_list(_: argparse.Namespace) -> int:
    """`arbiter users list`: every user, oldest first, as an aligned table."""
    rows = asyncio.run(_users())
    if not rows:
        print("no users yet: arbiter users create NAME --role admin")
        return 0
    table = [["NAME", "ROLE", "ID", "CREATED"], *rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    return 0


async def _verify() -> int:
    from store.audit_log import LogIdentity, verify_log
    from store.database import connect
    from store.log_keys import load_signer

    settings = get_settings()
    key = None
    if settings.log_signing_key_file is not None:
        key = load_signer(settings.log_signing_key_file).public_key_base64()
    else:
        print("no ARBITER_LOG_SIGNING_KEY_FILE: checkpoint signatures are not checked")
    database = connect(settings.database_url)
    try:
        reports = await verify_log(database, LogIdentity(settings.log_origin, key))
    finally:
        await database.dispose()
    broken = 0
    for report in reports:
        if report.problem is None:
            waiting = f"; {report.pending} decisions wait to be sealed" if report.pending else ""
            print(
                f"ok      {report.workflow_key}: {report.records} records, chain holds, "
                f"tree holds, {report.checkpoints} checkpoints hold{waiting}"
            )
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


def audit_verify(_: argparse.Namespace) -> int:
    """`arbiter audit verify`: 0 when every workflow's hash chain holds, else 1."""
    return asyncio.run(_verify())


def documents_load(args: argparse.Namespace) -> int:
    """`arbiter documents load FILE`: register a manifest's trusted documents."""
    from pathlib import Path

    from api.documents_command import load_documents

    added, total = asyncio.run(load_documents(get_settings(), Path(args.file)))
    print(
        f"{added} new trusted documents registered ({total} in {args.file}, {total - added} known)"
    )
    return 0


def documents_load_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "file", help="a JSON manifest of sha256 hash to document text (graphql-codegen, Relay)"
    )
