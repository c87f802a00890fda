"""Running `arbiter` as a newcomer would: a subprocess in a scratch folder, with only the
ARBITER_* variables the test gives it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

TIMEOUT = 60  # seconds: a command that should have refused would otherwise run on

_installed = Path(sys.executable).with_name("arbiter")
ARBITER = [str(_installed)] if _installed.exists() else [sys.executable, "-m", "api.cli"]

EVERY_DATABASE_COMMAND = (
    ("serve",),
    ("worker",),
    ("migrate",),
    ("retrain", "loans"),
    ("demo",),
    ("users", "create", "ada", "--role", "admin"),
    ("users", "list"),
    ("audit", "verify"),
    ("documents", "load", "x.json"),
)
"""Every command that uses the database, with arguments a newcomer would give."""
EVERY_COMMAND = (*EVERY_DATABASE_COMMAND, ("schema",))


@dataclass
class Ran:
    args: tuple[str, ...]
    status: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return self.err.splitlines()


def environment(**variables: str) -> dict[str, str]:
    """This process's environment without any ARBITER_* variable, plus `variables`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARBITER_")}
    env.update(variables)
    return env


def run_all(
    commands: Sequence[Sequence[str]],
    cwd: Path,
    env: dict[str, str] | Sequence[dict[str, str]],
) -> list[Ran]:
    """Run each command at once (each is a second of interpreter start-up), in `cwd`,
    with `env` (one for all, or one per command)."""
    envs = [env] * len(commands) if isinstance(env, dict) else list(env)
    started = [
        (
            tuple(args),
            subprocess.Popen(
                [*ARBITER, *args],
                cwd=cwd,
                env=one_env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            ),
        )
        for args, one_env in zip(commands, envs, strict=True)
    ]
    done = []
    for args, process in started:
        try:
            out, err = process.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
        done.append(Ran(args, process.returncode, out, err))
    return done


def run(*args: str, cwd: Path, env: dict[str, str]) -> Ran:
    return run_all([args], cwd, env)[0]


def files_under(folder: Path) -> set[Path]:
    return {path.relative_to(folder) for path in folder.rglob("*")}
