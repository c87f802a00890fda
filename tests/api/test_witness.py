"""`arbiter audit witness URL`: mistakes in the command are one line and exit 2 before
anything is asked or written; a server that cannot be asked is one line, and exit 2 with
--once."""

from __future__ import annotations

import base64
import json
import socket
from pathlib import Path

import pytest

from api.cli import main, parser
from api.cli_witness import DEFAULT_INTERVAL, graphql_endpoint
from tests.cli.helpers import environment, files_under, run

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
