"""`arbiter keys create` and `arbiter keys show`, run as a newcomer would: the key file
made once with mode 0600, its public key printed, mistakes answered in one line."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.cli.helpers import Ran, environment, files_under, run, run_all


def public_key_of(path: Path) -> str:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def assert_one_line(ran: Ran, *hints: str) -> None:
    assert ran.status == 2, (ran.args, ran.status, ran.out, ran.err)
    assert len(ran.err_lines) == 1, ran.err
    assert ran.err_lines[0].startswith("error: "), ran.err
    for hint in hints:
        assert hint in ran.err_lines[0], ran.err


def test_keys_create_makes_the_file_with_mode_0600_and_prints_its_public_key(tmp_path: Path):
    key = tmp_path / "keys" / "log.pem"
    key.parent.mkdir()
    ran = run(
        "keys", "create", cwd=tmp_path, env=environment(ARBITER_LOG_SIGNING_KEY_FILE=str(key))
    )
    assert ran.status == 0, ran.err
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    lines = ran.out.splitlines()
    assert lines == [
        f"created the log signing key in {key} (mode 0600); its public key:",
        public_key_of(key),
    ]
    assert files_under(tmp_path) == {Path("keys"), Path("keys/log.pem")}  # no database either


def test_keys_create_again_keeps_the_key_and_shows_prints_the_same_public_key(tmp_path: Path):
    env = environment(ARBITER_LOG_SIGNING_KEY_FILE="log.pem")  # relative to where it runs
    first = run("keys", "create", cwd=tmp_path, env=env)
    assert first.status == 0, first.err
    before = (tmp_path / "log.pem").read_bytes()
    again, shown = run_all([("keys", "create"), ("keys", "show")], tmp_path, env)
    assert (again.status, shown.status) == (0, 0), (again.err, shown.err)
    assert (tmp_path / "log.pem").read_bytes() == before
    public = public_key_of(tmp_path / "log.pem")
    assert again.out.splitlines() == [
        f"{tmp_path / 'log.pem'} already holds the log signing key, left as it is; its public key:",
        public,
    ]
    assert shown.out == f"{public}\n"
    assert first.out.splitlines()[-1] == public


def test_without_the_setting_both_say_to_set_it_in_one_line(tmp_path: Path):
    for ran in run_all([("keys", "create"), ("keys", "show")], tmp_path, environment()):
        assert_one_line(ran, "ARBITER_LOG_SIGNING_KEY_FILE is not set", "set it")
    assert files_under(tmp_path) == set()


def test_keys_show_without_a_key_file_says_to_run_keys_create(tmp_path: Path):
    env = environment(ARBITER_LOG_SIGNING_KEY_FILE=str(tmp_path / "log.pem"))
    assert_one_line(
        run("keys", "show", cwd=tmp_path, env=env),
        f"no log signing key at {tmp_path / 'log.pem'}",
        "run `arbiter keys create`",
    )
    assert files_under(tmp_path) == set()


def test_keys_create_in_a_missing_folder_names_the_folder(tmp_path: Path):
    env = environment(ARBITER_LOG_SIGNING_KEY_FILE=str(tmp_path / "nowhere" / "log.pem"))
    assert_one_line(
        run("keys", "create", cwd=tmp_path, env=env),
        f"the folder {tmp_path / 'nowhere'} does not exist",
    )
    assert files_under(tmp_path) == set()


def test_a_key_file_open_to_others_is_refused_by_both_and_left_as_it_is(tmp_path: Path):
    env = environment(ARBITER_LOG_SIGNING_KEY_FILE="log.pem")
    assert run("keys", "create", cwd=tmp_path, env=env).status == 0
    (tmp_path / "log.pem").chmod(0o644)
    for ran in run_all([("keys", "create"), ("keys", "show")], tmp_path, env):
        assert_one_line(ran, "mode 0644", "chmod 600")
        assert ran.out == ""
    assert stat.S_IMODE((tmp_path / "log.pem").stat().st_mode) == 0o644


def test_a_log_origin_with_a_space_is_one_line_naming_the_variable(tmp_path: Path):
    env = environment(ARBITER_LOG_SIGNING_KEY_FILE="log.pem", ARBITER_LOG_ORIGIN="my arbiter")
    assert_one_line(run("keys", "show", cwd=tmp_path, env=env), "ARBITER_LOG_ORIGIN='my arbiter'")
