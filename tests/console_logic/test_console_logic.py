"""The reviewer console's own logic, under Node: console/test/*.test.ts.

Pure modules (how numbers, times and payloads read; the live queue model; the keys) and
the review session (console/src/review/controller.ts) against a real `arbiter serve` on a
fresh SQLite file: what each of a reviewer's keys does, read back from the server. The
tests are type-checked against the console's sources, bundled with esbuild and run with
`node --test`. They need Node and the console's packages (`make install` puts them in
console/node_modules); without them they skip, or fail under ARBITER_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.clients_live.conftest import (
    ROOT,
    ArbiterServer,
    arbiter_serve,
    create_token,
    migrated_sqlite,
)
from tests.conftest import _service_missing

CONSOLE = ROOT / "console"
BIN = CONSOLE / "node_modules" / ".bin"
TIMEOUT = 120

SUITES = {
    "format": "how numbers, times and payloads read",
    "keys": "which key does what",
    "queueModel": "the live queue applies events by version",
    "controller": "a review session against arbiter serve",
    "recommendation": "the threshold's guarantee and the drift alarms in words",
}


@dataclass(frozen=True)
class Bundles:
    node: str
    directory: Path


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(args), cwd=CONSOLE, env=env, capture_output=True, text=True, timeout=TIMEOUT
    )


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> Bundles:
    """Each console/test/*.test.ts bundled for Node (one file each, its imports inside)."""
    node = shutil.which("node")
    if node is None:
        _service_missing("node is not on PATH: the console's tests need Node 20")
    if not (BIN / "esbuild").exists():
        _service_missing(f"{BIN / 'esbuild'} is missing: `make install` installs the console")
    assert node is not None
    if not (CONSOLE / "src" / "gql" / "index.ts").exists():  # generated, not committed
        result = run(str(BIN / "graphql-codegen"), "--config", "codegen.ts")
        assert result.returncode == 0, result.stdout + result.stderr
    directory = tmp_path_factory.mktemp("console-tests")
    for suite in SUITES:
        result = run(
            str(BIN / "esbuild"),
            f"test/{suite}.test.ts",
            "--bundle",
            "--platform=node",
            "--format=cjs",
            "--target=node20",
            "--external:bufferutil",
            "--external:utf-8-validate",
            "--log-level=warning",
            f"--outfile={directory / f'{suite}.test.cjs'}",
        )
        assert result.returncode == 0, result.stderr
    return Bundles(node, directory)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ArbiterServer, str]]:
    """`arbiter serve` on a fresh SQLite file, and an admin's token."""
    directory = tmp_path_factory.mktemp("console-logic-serve")
    database_url = migrated_sqlite(directory)
    admin = create_token(database_url, "ada", "admin")
    with arbiter_serve(database_url, directory) as running:
        yield running, admin


def test_the_console_tests_type_check_against_its_sources(bundles: Bundles) -> None:
    result = run(str(BIN / "tsc"), "-p", "test/tsconfig.json")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("suite", list(SUITES), ids=list(SUITES.values()))
def test_the_console_logic_passes_its_node_tests(
    suite: str, bundles: Bundles, server: tuple[ArbiterServer, str]
) -> None:
    running, admin = server
    env = {
        **os.environ,
        "ARBITER_TEST_URL": running.url,
        "ARBITER_TEST_ADMIN_TOKEN": admin,  # in the environment, out of the process list
    }
    bundle = bundles.directory / f"{suite}.test.cjs"
    result = run(bundles.node, "--test", "--test-reporter=tap", str(bundle), env=env)
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    passed = re.search(r"^# pass (\d+)$", result.stdout, re.MULTILINE)
    failed = re.search(r"^# fail (\d+)$", result.stdout, re.MULTILINE)
    assert passed and int(passed.group(1)) > 0, report
    assert failed and int(failed.group(1)) == 0, report
