"""Node and the npm packages of tests/clients, for tests that drive JavaScript clients.

`node_client` (session) finds node and npm and installs tests/clients' packages with
`npm ci` from the committed lockfile when node_modules is missing or older than it.
Without node and npm on PATH the tests that use it skip, or fail under
ARBITER_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import _service_missing

CLIENTS = Path(__file__).resolve().parent / "clients"
NPM_CI_TIMEOUT = 300


@dataclass(frozen=True)
class NodeClient:
    """node, with tests/clients' packages installed."""

    node: str

    def run(self, script: str, *args: str, token: str | None = None, timeout: float = 30) -> Any:
        """Run tests/clients/<script> to its end; the JSON of its last stdout line.

        Fails the test, with the script's stderr, when it exits non-zero or runs over
        `timeout` seconds. The token goes in ARBITER_TOKEN, out of the process list.
        """
        env = {**os.environ, **({"ARBITER_TOKEN": token} if token else {})}
        try:
            result = subprocess.run(
                [self.node, str(CLIENTS / script), *args],
                cwd=CLIENTS,
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired as error:
            pytest.fail(f"{script} ran over {timeout}s:\n{error.stderr}", pytrace=False)
        if result.returncode != 0:
            pytest.fail(
                f"{script} exited {result.returncode}:\n{result.stderr}\n{result.stdout}",
                pytrace=False,
            )
        lines = result.stdout.strip().splitlines()
        assert lines, f"{script} printed nothing:\n{result.stderr}"
        return json.loads(lines[-1])


def _installed_is_current() -> bool:
    marker = CLIENTS / "node_modules" / ".package-lock.json"  # written by every npm install/ci
    if not marker.exists():
        return False
    newest_input = max(
        (CLIENTS / "package-lock.json").stat().st_mtime,
        (CLIENTS / "package.json").stat().st_mtime,
    )
    return marker.stat().st_mtime >= newest_input


@pytest.fixture(scope="session")
def node_client() -> NodeClient:
    """node, with tests/clients' packages installed from the lockfile."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        missing = " and ".join(name for name, path in (("node", node), ("npm", npm)) if not path)
        _service_missing(f"{missing} not on PATH: the Node client tests need them")
    assert node is not None and npm is not None
    if not _installed_is_current():
        try:
            result = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund"],
                cwd=CLIENTS,
                capture_output=True,
                text=True,
                timeout=NPM_CI_TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            pytest.fail(f"`npm ci` in {CLIENTS} took over {NPM_CI_TIMEOUT}s", pytrace=False)
        if result.returncode != 0:
            pytest.fail(
                f"`npm ci` in {CLIENTS} failed ({result.returncode}):\n"
                f"{result.stdout}\n{result.stderr}",
                pytrace=False,
            )
    return NodeClient(node)
