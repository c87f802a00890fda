"""The README runs as printed: every ```graphql block, in document order, against a fresh
server, after the shell steps of "The first five minutes" run literally.

The database is a new SQLite file; `.venv/bin/arbiter migrate` and `users create` run
as the README prints them (with ARBITER_DATABASE_URL pointing at it), and the admin's
token is the last line printed, as the README says. Each block is one operation; the
variables a block needs come from earlier answers, where the README's prose says
they do (STEPS below knows which). A block the test does not know, an answer with
top-level errors or with a typed problem (NotFound, Conflict, ...) fails the test,
unless the README says that block shows that problem.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from graphql import FieldNode, OperationDefinitionNode, parse

from api.possible_types import possible_types_json
from tests.conftest import make_settings
from tests.live.conftest import LiveServer, serve

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
FIRST_FIVE_MINUTES = "The first five minutes"
# The shell steps the test runs (literally, in the repository, as a reader would).
ARBITER = ".venv/bin/arbiter"
KNOWN_COMMANDS = (["migrate"], ["users", "create"], ["audit", "verify"])
PROBLEMS = set(json.loads(possible_types_json())["Problem"])

Answers = dict[str, dict[str, Any]]


@dataclass
class Block:
    language: str
    text: str
    section: str
    prose: str  # the text between the previous block and this one


@dataclass
class Step:
    """How to run one README block: where its variables come from, what its answer says."""

    variables: dict[str, Callable[[Answers], Any]] = field(default_factory=dict)
    check: Callable[[dict[str, Any]], None] | None = None
    shows_problem: str | None = None  # the typed problem the README says this block shows


def _item(answers: Answers, external_id: str) -> dict[str, Any]:
    items = answers["submitRecommendations"]["submitRecommendations"]["recommendations"]
    return next(item for item in items if item["externalId"] == external_id)


def _claimed(answers: Answers) -> dict[str, Any]:
    return dict(answers["claimNext"]["claimNext"]["recommendation"])


def _submitted(data: dict[str, Any]) -> None:
    answer = data["submitRecommendations"]
    tiers = {item["externalId"]: item["tier"] for item in answer["recommendations"]}
    assert answer["created"] == 4
    assert tiers == {
        "app-1": "AUTO_APPROVE",
        "app-2": "ANALYST_REVIEW",
        "app-3": "BELOW_FLOOR",
        "app-4": "SENIOR_REVIEW",
    }


def _claimed_app_2(data: dict[str, Any]) -> None:
    assert data["claimNext"]["recommendation"]["externalId"] == "app-2"


def _approved(data: dict[str, Any]) -> None:
    assert data["approve"]["recommendation"]["status"] == "APPROVED"


def _overridden(data: dict[str, Any]) -> None:
    decision = data["override"]["decision"]
    assert (decision["verdict"], decision["finalAction"]) == ("OVERRIDE", "decline_loan")


def _log_and_overrides(data: dict[str, Any]) -> None:
    verdicts = [edge["node"]["verdict"] for edge in data["decisions"]["edges"]]
    assert verdicts == ["APPROVE", "REJECT", "APPROVE", "OVERRIDE"]
    overrides = [edge["node"] for edge in data["overrides"]["edges"]]
    assert [(o["proposedAction"], o["chosenAction"], o["reason"]) for o in overrides] == [
        ("approve_loan", "decline_loan", "founded 1.2 years ago")
    ]


def _no_threshold_yet(data: dict[str, Any]) -> None:
    found = data["recommendThreshold"]
    assert found["autoApproveAt"] is None and found["evidence"] == 2, found  # app-2, app-4
    assert found["message"].startswith("No threshold can be guaranteed"), found


def _webhook_created(data: dict[str, Any]) -> None:
    assert data["createWebhook"]["secret"]


def _signed_head(data: dict[str, Any]) -> None:
    checkpoint = data["logCheckpoint"]
    # app-1 auto-approved, app-3 rejected below the floor, app-2 approved, app-4 overridden
    assert checkpoint["treeSize"] == 4, checkpoint
    assert checkpoint["note"].startswith("arbiter/loans\n4\n"), checkpoint
    assert len(data["logPublicKey"]) == 44


# Keyed by the block's root fields. The variables are the ones the README's prose names.
STEPS: dict[str, Step] = {
    "createWorkflow": Step(),
    "submitRecommendations": Step(check=_submitted),
    "claimNext": Step(check=_claimed_app_2),
    "approve": Step(
        variables={"id": lambda a: _claimed(a)["id"], "version": lambda a: _claimed(a)["version"]},
        check=_approved,
    ),
    "override": Step(
        variables={
            "id": lambda a: _item(a, "app-4")["id"],
            "version": lambda a: _item(a, "app-4")["version"],
        },
        check=_overridden,
    ),
    "decisions overrides": Step(check=_log_and_overrides),
    "recommendThreshold": Step(check=_no_threshold_yet),
    "createWebhook": Step(check=_webhook_created),
    "logPublicKey logCheckpoint": Step(check=_signed_head),
}


def readme_blocks(markdown: str) -> list[Block]:
    """Every fenced block, in document order, with its section and the prose before it."""
    blocks: list[Block] = []
    section, prose, body = "", [], []
    language: str | None = None
    for line in markdown.splitlines():
        if language is None:
            if line.startswith("## "):
                section, prose = line[3:].strip(), []
            elif line.startswith("```"):
                language = line[3:].strip()
                body = []
            else:
                prose.append(line)
        elif line.startswith("```"):
            blocks.append(Block(language, "\n".join(body), section, "\n".join(prose)))
            language, prose = None, []
        else:
            body.append(line)
    assert language is None, "README.md ends inside a fenced block"
    return blocks


def operation_of(block: Block) -> tuple[str, OperationDefinitionNode]:
    """The block's only operation and its key: the names of its root fields."""
    operations = [
        d for d in parse(block.text).definitions if isinstance(d, OperationDefinitionNode)
    ]
    assert len(operations) == 1, (
        f"a README block must hold one operation, this one holds {len(operations)}:\n{block.text}"
    )
    operation = operations[0]
    roots = operation.selection_set.selections
    assert all(isinstance(s, FieldNode) for s in roots), (
        f"spread a fragment below the root:\n{block.text}"
    )
    return " ".join(s.name.value for s in roots if isinstance(s, FieldNode)), operation


def variables_named_in(prose: str) -> set[str]:
    """The keys of the `{"id": ..., ...}` the README tells the reader to put in Variables."""
    found = re.search(r"variables\s+`(\{.*?\})`", prose, re.DOTALL)
    return set(re.findall(r'"(\w+)"\s*:', found.group(1))) if found else set()


def problems_in(value: Any) -> set[str]:
    """The typed problems anywhere in an answer (by __typename)."""
    if isinstance(value, dict):
        found = {value["__typename"]} & PROBLEMS if "__typename" in value else set()
        for inner in value.values():
            found |= problems_in(inner)
        return found
    if isinstance(value, list):
        return set().union(*(problems_in(inner) for inner in value)) if value else set()
    return set()


async def run_shell_block(block: Block, env: dict[str, str]) -> str:
    """Run the block's commands literally in the repository; return what they printed."""
    for line in block.text.splitlines():
        command = shlex.split(line, comments=True)
        if not command:
            continue
        known = command[0] == ARBITER and any(command[1 : 1 + len(k)] == k for k in KNOWN_COMMANDS)
        assert known, f"the test does not know how to run this README step: {line}"
    process = await asyncio.create_subprocess_exec(
        "bash",
        "-euc",
        block.text,
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await process.communicate()
    assert process.returncode == 0, (
        f"README step failed ({process.returncode}):\n{block.text}\n{stdout.decode()}"
        f"{stderr.decode()}"
    )
    return stdout.decode()


async def run_graphql_block(block: Block, server: LiveServer, token: str, answers: Answers) -> None:
    key, operation = operation_of(block)
    step = STEPS.get(key)
    assert step is not None, (
        f"README.md has a ```graphql block the test does not know how to run ({key}): "
        f"add it to STEPS in {Path(__file__).name}"
    )
    declared = {d.variable.name.value for d in operation.variable_definitions or ()}
    assert declared == set(step.variables), f"{key}: the test fills {set(step.variables)}"
    assert variables_named_in(block.prose) == declared, (
        f"{key}: the README must say where each variable comes from: "
        f'"with variables `{{"name": ...}}`" naming {sorted(declared)}'
    )
    variables = {name: source(answers) for name, source in step.variables.items()}
    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.post(
            server.graphql,
            json={"query": block.text, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 200, f"{key}: HTTP {response.status_code} {response.text}"
    body = response.json()
    assert not body.get("errors"), f"{key}: {body['errors']}"
    data = body["data"]
    shown = problems_in(data)
    if step.shows_problem is None:
        assert not shown, f"{key}: the answer holds {shown}: {data}"
    else:
        assert step.shows_problem in block.prose, f"{key}: the README does not say it shows one"
        assert shown == {step.shows_problem}, f"{key}: expected {step.shows_problem}: {data}"
    if step.check is not None:
        step.check(data)
    answers[key] = data


async def test_every_readme_example_runs_in_order_as_printed(tmp_path: Path) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'arbiter.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARBITER_")}
    env["ARBITER_DATABASE_URL"] = database_url
    blocks = readme_blocks(README.read_text())
    token: str | None = None
    server: LiveServer | None = None
    answers: Answers = {}
    ran_shell: list[str] = []
    async with contextlib.AsyncExitStack() as stack:
        for block in blocks:
            if block.language == "sh" and block.section == FIRST_FIVE_MINUTES:
                printed = await run_shell_block(block, env)
                ran_shell.append(block.text)
                if "users create" in block.text:
                    token = printed.strip().splitlines()[-1]
            elif block.language == "graphql":
                assert token is not None, "a graphql block comes before the admin is created"
                if server is None:  # as `make run` would, once the database is migrated
                    server = await stack.enter_async_context(serve(make_settings(database_url)))
                await run_graphql_block(block, server, token, answers)
    assert set(answers) == set(STEPS), f"README.md lost the blocks {set(STEPS) - set(answers)}"
    assert any("migrate" in text for text in ran_shell)
    assert any("audit verify" in text for text in ran_shell)
