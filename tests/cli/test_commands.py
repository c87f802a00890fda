"""`arbiter --version`, `arbiter --help`, `arbiter users create` and `arbiter users list`,
run as a newcomer would."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from importlib import metadata
from pathlib import Path

from api.cli import COMMANDS
from tests.cli.helpers import environment, files_under, run, run_all

DOCUMENTED = [
    "serve",
    "worker",
    "migrate",
    "retrain",
    "demo",
    "users create",
    "users list",
    "audit verify",
    "documents load",
    "schema",
]


def test_version_prints_the_installed_version(tmp_path: Path) -> None:
    ran = run("--version", cwd=tmp_path, env=environment())
    assert (ran.status, ran.out, ran.err) == (0, f"arbiter {metadata.version('arbiter')}\n", "")


def test_help_lists_every_command_with_a_line_saying_what_it_does(tmp_path: Path) -> None:
    ran = run("--help", cwd=tmp_path, env=environment())
    assert ran.status == 0, ran.err
    described = {}
    for line in ran.out.splitlines():
        found = re.match(r"^  (\S+(?: \S+)?)\s{2,}(\S.*)$", line)
        if found and not found.group(1).startswith("-"):
            described[found.group(1)] = found.group(2)
    for words in [*DOCUMENTED, *(command.words for command in COMMANDS)]:
        assert described.get(words), (words, ran.out)


def test_a_usage_mistake_is_one_line_pointing_at_the_commands_help(tmp_path: Path) -> None:
    results = run_all([("users", "create", "ada"), ("retrain",), ()], tmp_path, environment())
    assert [(r.status, r.err_lines) for r in results] == [
        (
            2,
            [
                "error: the following arguments are required: --role "
                "(see `arbiter users create --help`)"
            ],
        ),
        (
            2,
            [
                "error: the following arguments are required: workflow "
                "(see `arbiter retrain --help`)"
            ],
        ),
        (2, ["error: the following arguments are required: COMMAND (see `arbiter --help`)"]),
    ]
    assert files_under(tmp_path) == set()


def test_users_list_shows_every_user_created_in_an_aligned_table(tmp_path: Path) -> None:
    env = environment(ARBITER_DATABASE_URL="sqlite+aiosqlite:///./arbiter.db")
    assert run("migrate", cwd=tmp_path, env=env).status == 0
    empty = run("users", "list", cwd=tmp_path, env=env)
    assert (empty.status, empty.out) == (
        0,
        "no users yet: arbiter users create NAME --role admin\n",
    )

    created = {}
    for name, role in (("ada", "admin"), ("bob", "analyst")):
        ran = run("users", "create", name, "--role", role, cwd=tmp_path, env=env)
        assert ran.status == 0, ran.err
        found = re.match(rf"created {role} '{name}' \((usr_\w+)\); its bearer token:", ran.out)
        assert found, ran.out
        created[name] = found.group(1)
    again = run("users", "create", "ada", "--role", "senior", cwd=tmp_path, env=env)
    assert (again.status, again.err_lines) == (2, ["error: a user named 'ada' exists already"])

    listed = run("users", "list", cwd=tmp_path, env=env)
    assert (listed.status, listed.err) == (0, "")
    header, *rows = listed.out.splitlines()
    assert header.split() == ["NAME", "ROLE", "ID", "CREATED"]
    starts = [header.index(column) for column in ("NAME", "ROLE", "ID", "CREATED")]
    table = [
        [row[a:b].strip() for a, b in zip(starts, [*starts[1:], None], strict=True)] for row in rows
    ]
    assert [cells[:3] for cells in table] == [
        ["ada", "admin", created["ada"]],
        ["bob", "analyst", created["bob"]],
    ]
    created_at = [datetime.strptime(cells[3], "%Y-%m-%d %H:%M:%S UTC") for cells in table]
    assert created_at == sorted(created_at)  # oldest first
    assert files_under(tmp_path) <= {
        Path("arbiter.db"),
        Path("arbiter.db-wal"),
        Path("arbiter.db-shm"),
    }


def test_documents_load_registers_a_manifest_once_and_refuses_a_wrong_one_in_one_line(
    tmp_path: Path,
) -> None:
    env = environment(ARBITER_DATABASE_URL="sqlite+aiosqlite:///./arbiter.db")
    assert run("migrate", cwd=tmp_path, env=env).status == 0
    text = "query Me { me { name } }"
    (tmp_path / "good.json").write_text(
        json.dumps({hashlib.sha256(text.encode()).hexdigest(): text})
    )
    (tmp_path / "wrong.json").write_text(json.dumps({"sha256:" + "0" * 64: text}))

    first, again, wrong = (
        run("documents", "load", name, cwd=tmp_path, env=env)
        for name in ("good.json", "good.json", "wrong.json")
    )

    assert (first.status, first.out) == (
        0,
        "1 new trusted documents registered (1 in good.json, 0 known)\n",
    )
    assert again.out.startswith("0 new trusted documents registered")
    assert wrong.status == 2 and len(wrong.err_lines) == 1
    assert "is not the SHA-256 of its document" in wrong.err_lines[0]
