"""`arbiter audit witness URL`: over the real app, a witness keeps each checkpoint of a
growing log, and exits 1 on a log whose history was rewritten, on another root signed at
the kept size, and on a checkpoint signed by another key, keeping nothing of it. Mistakes
in the command are one line and exit 2 before anything is asked or written; a server that
cannot be asked is one line (retried at the next interval; exit 2 with --once)."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import socket
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api.cli import main, parser
from api.cli_witness import DEFAULT_INTERVAL, Witness, WitnessOptions, graphql_endpoint
from api.settings import Settings
from domain.checkpoints import checkpoint_note
from store.database import Database
from store.log_keys import LogSigner, load_signer
from store.tables import log_checkpoints_t, log_nodes_t, workflows_t
from tests.cli.helpers import environment, files_under, run
from tests.conftest import GraphQLClient
from tests.factories import create_user, create_workflow, proposal, submit

KEY = base64.b64encode(bytes(range(32))).decode()
OTHER_KEY = base64.b64encode(bytes(range(1, 33))).decode()


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def witness(
    capsys: pytest.CaptureFixture[str], *args: str, token: str | None = "t"
) -> tuple[int, list[str], list[str]]:
    """Runs `arbiter audit witness ARGS` in this process: its status, stdout and stderr lines."""
    argv = ["audit", "witness", *args, *(["--token", token] if token else [])]
    try:
        status = main(argv)
    except SystemExit as stopped:  # argparse's usage mistakes
        status = int(stopped.code or 0)
    out, err = capsys.readouterr()
    return status, out.splitlines(), err.splitlines()


def test_the_url_may_be_the_base_address_or_the_graphql_endpoint():
    assert graphql_endpoint("http://127.0.0.1:8000") == "http://127.0.0.1:8000/graphql"
    assert graphql_endpoint("https://arbiter.example/") == "https://arbiter.example/graphql"
    assert graphql_endpoint("https://a.example/x/graphql") == "https://a.example/x/graphql"
    assert graphql_endpoint("http://h/graphql/?q=1") == "http://h/graphql"


def test_the_options_default_to_ten_seconds_and_no_state_file():
    args = parser().parse_args(["audit", "witness", "http://h"])
    assert (args.interval, args.state, args.public_key, args.once) == (
        DEFAULT_INTERVAL,
        None,
        None,
        False,
    )
    args = parser().parse_args(
        ["audit", "witness", "http://h", "--interval", "0.5", "--state", "w.json", "--once"]
    )
    assert (args.interval, args.state, args.once) == (0.5, "w.json", True)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["ftp://h"], "'ftp://h' is not an http(s) URL"),
        (["arbiter.example"], "is not an http(s) URL"),
        (["http://h", "--public-key", "AAAA"], "--public-key: public key 'AAAA' is not the 32"),
        (["http://h", "--interval", "0"], "'0' is not a number of seconds above 0"),
        (["http://h", "--interval", "soon"], "'soon' is not a number of seconds above 0"),
    ],
)
def test_a_mistake_in_the_command_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], args: list[str], words: str
):
    status, out, err = witness(capsys, *args, "--once")
    assert status == 2
    assert out == []
    assert len(err) == 1 and err[0].startswith("error: ") and words in err[0], err


def test_without_a_token_it_says_where_to_put_one(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("ARBITER_WITNESS_TOKEN", raising=False)
    status, _, err = witness(capsys, "http://h", "--once", token=None)
    assert status == 2
    assert err == [
        "error: no bearer token: pass --token or set ARBITER_WITNESS_TOKEN "
        "(the token of any active user of that Arbiter)"
    ]


def test_a_state_file_that_is_not_a_witness_state_is_refused_and_left_as_it_is(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
):
    state = tmp_path / "witness.json"
    state.write_text('{"version": 1, "checkpoints": []}')
    status, _, err = witness(capsys, "http://h", "--state", str(state), "--once")
    assert status == 2
    assert err == [
        f"error: {state} is not a witness state (checkpoints is not an object): "
        "give another --state file"
    ]
    assert state.read_text() == '{"version": 1, "checkpoints": []}'


def test_a_state_file_in_a_missing_folder_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
):
    state = tmp_path / "nowhere" / "witness.json"
    status, _, err = witness(capsys, "http://h", "--state", str(state), "--once")
    assert status == 2
    assert err == [
        f"error: cannot keep the witness state in {state}: {state.parent} is not a folder"
    ]


def test_a_public_key_other_than_the_one_the_state_pinned_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
):
    state = tmp_path / "witness.json"
    state.write_text(json.dumps({"version": 1, "publicKey": KEY, "checkpoints": {}}))
    status, _, err = witness(
        capsys, "http://h", "--state", str(state), "--public-key", OTHER_KEY, "--once"
    )
    assert status == 2
    assert len(err) == 1 and f"is not the key {KEY} that {state} pinned" in err[0], err


def test_with_once_a_server_that_cannot_be_reached_is_one_line_and_exit_2(tmp_path: Path):
    url = f"http://127.0.0.1:{closed_port()}"
    ran = run(
        "audit",
        "witness",
        url,
        "--once",
        "--state",
        "w.json",
        cwd=tmp_path,
        env=environment(ARBITER_WITNESS_TOKEN="t"),
    )
    assert ran.status == 2, (ran.out, ran.err)
    assert ran.out == ""
    assert len(ran.err_lines) == 1, ran.err
    assert ran.err_lines[0].startswith(f"error: cannot reach {url}/graphql"), ran.err
    assert files_under(tmp_path) == set()  # nothing pinned, nothing written


# ------------------------------------------------------------------ against the real app


async def witness_over(
    gql: GraphQLClient, options: WitnessOptions
) -> tuple[int, list[str], list[str]]:
    """One `--once` witness over the app in process: its status, stdout and stderr lines."""
    out, err = io.StringIO(), io.StringIO()
    status = await Witness(options, gql.http, out, err).run()
    return status, out.getvalue().splitlines(), err.getvalue().splitlines()


def options_for(token: str, state: Path, **more: Any) -> WitnessOptions:
    return WitnessOptions("http://test/graphql", token, state, once=True, **more)


async def decide_automatically(gql: GraphQLClient, admin: str, workflow: str, count: int) -> None:
    """`count` decisions in the workflow's log: proposals confident enough to auto-approve."""
    items = [proposal(confidence=0.95, externalId=f"auto-{uuid.uuid4().hex}") for _ in range(count)]
    result = await submit(gql, admin, workflow, *items)
    assert result["__typename"] == "SubmitSuccess", result
    assert {r["status"] for r in result["recommendations"]} == {"APPROVED"}, result


async def served_checkpoint(gql: GraphQLClient, token: str, workflow: str) -> dict[str, Any]:
    data = await gql(
        "query($w: String!) { logCheckpoint(workflow: $w) { treeSize rootHash note signature } }",
        {"w": workflow},
        token=token,
    )
    return dict(data["logCheckpoint"])


async def workflow_id(database: Database, key: str) -> str:
    async with database.write_engine.connect() as connection:
        found = await connection.execute(
            sa.select(workflows_t.c.id).where(workflows_t.c.key == key)
        )
        return str(found.scalar_one())


async def shop(gql: GraphQLClient) -> tuple[str, str, str]:
    """An admin, an analyst (the witness's token: any active user) and a workflow's key."""
    admin = await create_user(gql.services, "admin")
    analyst = await create_user(gql.services, "analyst")
    workflow = await create_workflow(gql, admin)
    return admin, analyst, str(workflow["key"])


async def witnessed(
    gql: GraphQLClient, tmp_path: Path, decisions: int
) -> tuple[str, str, str, Path]:
    """A shop whose workflow logged `decisions` that a witness kept: the admin's and the
    analyst's tokens, the workflow's key and the witness's state file."""
    admin, analyst, key = await shop(gql)
    state = tmp_path / "witness.json"
    await decide_automatically(gql, admin, key, decisions)
    status, out, err = await witness_over(gql, options_for(analyst, state))
    assert (status, out[-1:], err) == (
        0,
        [f"kept    {key}: tree size {decisions} (first checkpoint seen)"],
        [],
    )
    return admin, analyst, key, state


async def assert_it_fails(gql: GraphQLClient, analyst: str, state: Path, line: str) -> None:
    """The witness exits 1 with `line` and leaves its state file as it was."""
    kept = state.read_bytes()
    assert await witness_over(gql, options_for(analyst, state)) == (1, [], [line])
    assert state.read_bytes() == kept


async def test_a_witness_over_a_growing_log_keeps_each_checkpoint(
    gql: GraphQLClient, tmp_path: Path
):
    admin, analyst, key = await shop(gql)
    state = tmp_path / "witness.json"
    public_key = (await gql("{ logPublicKey }", token=analyst))["logPublicKey"]

    status, out, err = await witness_over(gql, options_for(analyst, state))
    assert (status, err) == (0, [])
    assert out == [
        f"pinned  the log's public key {public_key} (trust on first use)",
        f"skip    {key}: no checkpoint yet",
    ]
    assert json.loads(state.read_text()) == {
        "version": 1,
        "publicKey": public_key,
        "checkpoints": {},
    }

    await decide_automatically(gql, admin, key, 3)
    status, out, err = await witness_over(gql, options_for(analyst, state))
    assert (status, out, err) == (0, [f"kept    {key}: tree size 3 (first checkpoint seen)"], [])

    for grown, added in ((3, 2), (5, 1), (6, 10)):
        await decide_automatically(gql, admin, key, added)
        status, out, err = await witness_over(gql, options_for(analyst, state))
        size = grown + added
        assert (status, err) == (0, [])
        assert out == [f"kept    {key}: tree size {grown} -> {size}, consistency proof holds"]
        served = await served_checkpoint(gql, analyst, key)
        kept = json.loads(state.read_text())["checkpoints"][key]
        assert kept == served and served["treeSize"] == size

    status, out, err = await witness_over(gql, options_for(analyst, state, public_key=public_key))
    assert (status, out, err) == (0, [f"same    {key}: tree size 16"], [])


async def test_a_log_whose_history_was_rewritten_is_a_fork_and_nothing_of_it_is_kept(
    gql: GraphQLClient, database: Database, tmp_path: Path
):
    admin, analyst, key, state = await witnessed(gql, tmp_path, 3)

    # Rewrite the first leaves' subtrees; the next decisions are appended to the forged
    # tree, whose new head the deployment's own key signs.
    forged = hashlib.sha256(b"forged history").digest()
    nodes = log_nodes_t.c
    forged_id = await workflow_id(database, key)
    async with database.write_engine.begin() as connection:
        await connection.execute(
            sa.update(log_nodes_t)
            .where(nodes.workflow_id == forged_id, nodes.idx == 0)
            .values(hash=forged)
        )
    await decide_automatically(gql, admin, key, 2)

    await assert_it_fails(
        gql,
        analyst,
        state,
        f"FORK {key}: kept tree size 3, served tree size 5: the consistency proof from 3 "
        "to 5 does not verify",
    )


async def test_another_root_signed_at_the_kept_size_is_a_fork(
    gql: GraphQLClient, database: Database, app_settings: Settings, tmp_path: Path
):
    _, analyst, key, state = await witnessed(gql, tmp_path, 4)

    # The deployment signs another tree of the same size (a log re-sealed differently).
    assert app_settings.log_signing_key_file is not None
    signer = load_signer(app_settings.log_signing_key_file)
    served = await served_checkpoint(gql, analyst, key)
    origin = served["note"].split("\n")[0]
    forged = hashlib.sha256(b"another history").digest()
    await replace_checkpoint(database, key, 4, origin, forged, signer)

    await assert_it_fails(
        gql,
        analyst,
        state,
        f"FORK {key}: kept tree size 4, served tree size 4: same size, different root "
        f"({served['rootHash']} kept, {forged.hex()} served)",
    )


async def test_a_checkpoint_signed_by_another_key_makes_it_exit_1(
    gql: GraphQLClient, database: Database, tmp_path: Path
):
    admin, analyst, key, state = await witnessed(gql, tmp_path, 2)
    await decide_automatically(gql, admin, key, 1)
    served = await served_checkpoint(gql, analyst, key)
    stranger = LogSigner(Ed25519PrivateKey.generate())
    origin = served["note"].split("\n")[0]
    await replace_checkpoint(database, key, 3, origin, bytes.fromhex(served["rootHash"]), stranger)

    await assert_it_fails(
        gql,
        analyst,
        state,
        f"BAD SIGNATURE {key}: kept tree size 2, served tree size 3: its signature does not "
        "verify with the pinned key",
    )


async def test_a_witness_pinned_to_another_key_fails_on_the_key_and_every_checkpoint(
    gql: GraphQLClient, tmp_path: Path
):
    admin, analyst, key = await shop(gql)
    await decide_automatically(gql, admin, key, 1)
    public_key = (await gql("{ logPublicKey }", token=analyst))["logPublicKey"]
    state = tmp_path / "witness.json"

    status, out, err = await witness_over(gql, options_for(analyst, state, public_key=KEY))
    assert (status, out) == (1, [])
    assert err == [
        f"KEY CHANGED: the log now serves the public key {public_key}, not the pinned {KEY}",
        f"BAD SIGNATURE {key}: nothing kept, served tree size 1: its signature does not "
        "verify with the pinned key",
    ]
    assert json.loads(state.read_text()) == {"version": 1, "publicKey": KEY, "checkpoints": {}}


async def test_a_token_the_server_refuses_is_one_line_and_exit_2_with_once(
    gql: GraphQLClient, tmp_path: Path
):
    await shop(gql)
    status, out, err = await witness_over(gql, options_for("not-a-token", tmp_path / "w.json"))
    assert (status, out) == (2, [])
    assert len(err) == 1 and err[0].startswith("error: http://test/graphql answered: "), err
    assert not (tmp_path / "w.json").exists()


async def test_without_once_it_says_so_and_tries_again_at_each_interval(tmp_path: Path):
    class Stop(Exception):
        pass

    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) == 2:
            raise Stop

    url = f"http://127.0.0.1:{closed_port()}/graphql"
    options = WitnessOptions(url, "t", None, interval=0.25)
    err = io.StringIO()
    async with httpx.AsyncClient() as http:
        with pytest.raises(Stop):
            await Witness(options, http, io.StringIO(), err).run(sleep)
    lines = err.getvalue().splitlines()
    assert slept == [0.25, 0.25]
    assert len(lines) == 2 and all(line.startswith(f"error: cannot reach {url}") for line in lines)


async def replace_checkpoint(
    database: Database, key: str, size: int, origin: str, root: bytes, signer: LogSigner
) -> None:
    """Make the workflow's checkpoint at `size` state `root`, signed by `signer`."""
    note = checkpoint_note(origin, size, root)
    c = log_checkpoints_t.c
    forged_id = await workflow_id(database, key)
    async with database.write_engine.begin() as connection:
        await connection.execute(
            sa.update(log_checkpoints_t)
            .where(c.workflow_id == forged_id, c.tree_size == size)
            .values(
                root_hash=root.hex(),
                note=note.decode(),
                signature=base64.b64encode(signer.sign(note)).decode(),
            )
        )
