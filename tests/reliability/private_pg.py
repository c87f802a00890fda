"""A PostgreSQL server of the test's own, which it may stop and start at will.

The shared server on 5432 is never touched. initdb runs as the `postgres` OS
user into a temporary directory it owns; the server listens on a free port on
127.0.0.1 with trust auth and its socket in that directory. Missing binaries, or
no way to run as `postgres`, skip the test (fail under ARBITER_REQUIRE_SERVICES=1).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import _service_missing
from tests.live.conftest import free_port


def _bin_dir() -> Path | None:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name or 0)
    )
    for candidate in reversed(found):
        if (Path(candidate) / "initdb").exists() and (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    return None


@dataclass
class PrivatePostgres:
    bin_dir: Path
    root: Path
    port: int

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def _pg_ctl(self, *args: str) -> None:
        command = [
            "runuser",
            "-u",
            "postgres",
            "--",
            str(self.bin_dir / "pg_ctl"),
            "-D",
            str(self.data),
            *args,
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            log = (self.root / "server.log").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"pg_ctl {args[-1]} failed: {done.stdout}{done.stderr}\n{log}")

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._pg_ctl("-l", str(self.root / "server.log"), "-o", options, "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self._pg_ctl("-m", mode, "-w", "-t", "60", "stop")


@contextlib.contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    bin_dir = _bin_dir()
    if bin_dir is None:
        _service_missing("no PostgreSQL server binaries in /usr/lib/postgresql/*/bin")
    assert bin_dir is not None
    try:
        owner = pwd.getpwnam("postgres")
    except KeyError:
        _service_missing("there is no `postgres` OS user to run a private PostgreSQL")
        raise
    if os.geteuid() != 0 or shutil.which("runuser") is None:
        _service_missing("a private PostgreSQL needs root and runuser (to run as `postgres`)")
    root = Path(tempfile.mkdtemp(prefix="arbiter-pg-"))
    os.chown(root, owner.pw_uid, owner.pw_gid)
    server = PrivatePostgres(bin_dir, root, free_port())
    try:
        subprocess.run(
            [
                "runuser",
                "-u",
                "postgres",
                "--",
                str(bin_dir / "initdb"),
                "-D",
                str(server.data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-E",
                "UTF8",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        server.start()
        try:
            yield server
        finally:
            with contextlib.suppress(Exception):
                server.stop("immediate")
    finally:
        shutil.rmtree(root, ignore_errors=True)
