"""The log signing key: made once with mode 0600, loaded only when it is safe and
Ed25519, and its signatures checkable with the public key alone."""

from __future__ import annotations

import base64
import hashlib
import os
import stat
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from domain.checkpoints import checkpoint_note
from store.log_keys import LogKeyError, create_key_file, load_signer, verify_signature

NOTE = checkpoint_note("arbiter/loans", 12, hashlib.sha256(b"root").digest())


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "log-signing.pem"
    assert create_key_file(path)
    return path


def test_a_created_key_signs_and_the_public_key_alone_verifies_it(key_file: Path):
    signer = load_signer(key_file)
    signature = signer.sign(NOTE)
    assert len(signature) == 64
    raw = base64.b64decode(signer.public_key_base64(), validate=True)
    assert len(raw) == 32
    Ed25519PublicKey.from_public_bytes(raw).verify(signature, NOTE)  # raises if wrong
    assert verify_signature(signer.public_key_base64(), NOTE, signature)


def test_the_key_file_is_an_unencrypted_pkcs8_pem_with_mode_0600(key_file: Path):
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    pem = key_file.read_bytes()
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----\n")
    serialization.load_pem_private_key(pem, password=None)
    assert [p.name for p in key_file.parent.iterdir()] == [key_file.name]  # no leftovers


def test_the_mode_is_0600_whatever_the_umask(tmp_path: Path):
    previous = os.umask(0)
    try:
        assert create_key_file(tmp_path / "key.pem")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "key.pem").stat().st_mode) == 0o600


def test_an_existing_file_is_left_untouched(key_file: Path):
    before = key_file.read_bytes()
    public = load_signer(key_file).public_key_base64()
    assert create_key_file(key_file) is False
    assert key_file.read_bytes() == before
    assert load_signer(key_file).public_key_base64() == public


def test_two_keys_created_apart_differ(tmp_path: Path):
    assert create_key_file(tmp_path / "a.pem") and create_key_file(tmp_path / "b.pem")
    a, b = load_signer(tmp_path / "a.pem"), load_signer(tmp_path / "b.pem")
    assert a.public_key_base64() != b.public_key_base64()
    assert not verify_signature(b.public_key_base64(), NOTE, a.sign(NOTE))


def test_a_folder_that_does_not_exist_is_named(tmp_path: Path):
    with pytest.raises(LogKeyError, match=r"folder .*missing does not exist"):
        create_key_file(tmp_path / "missing" / "key.pem")
    assert not (tmp_path / "missing").exists()


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o620])
def test_a_key_file_open_to_group_or_others_is_refused(key_file: Path, mode: int):
    key_file.chmod(mode)
    with pytest.raises(LogKeyError, match=f"mode {mode:04o}.*chmod 600"):
        load_signer(key_file)


def test_a_key_file_readable_by_its_owner_alone_loads(key_file: Path):
    key_file.chmod(0o400)
    assert load_signer(key_file).public_key_base64()


def test_a_missing_key_file_says_to_run_keys_create(tmp_path: Path):
    with pytest.raises(LogKeyError, match=r"no log signing key at .*arbiter keys create"):
        load_signer(tmp_path / "absent.pem")


def test_a_key_that_is_not_ed25519_is_refused(tmp_path: Path):
    path = tmp_path / "ec.pem"
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.write_bytes(pem)
    path.chmod(0o600)
    with pytest.raises(LogKeyError, match="not an Ed25519 private key"):
        load_signer(path)


@pytest.mark.parametrize("content", [b"", b"not a key\n", b"-----BEGIN PRIVATE KEY-----\nAA\n"])
def test_a_file_that_is_not_a_pem_private_key_is_refused(tmp_path: Path, content: bytes):
    path = tmp_path / "junk.pem"
    path.write_bytes(content)
    path.chmod(0o600)
    with pytest.raises(LogKeyError, match="does not hold an unencrypted PEM private key"):
        load_signer(path)


def test_a_tampered_note_or_signature_fails_verification(key_file: Path):
    signer = load_signer(key_file)
    public = signer.public_key_base64()
    signature = signer.sign(NOTE)
    other_note = NOTE.replace(b"\n12\n", b"\n13\n")
    assert other_note != NOTE
    flipped = bytes([signature[0] ^ 1]) + signature[1:]
    assert not verify_signature(public, other_note, signature)
    assert not verify_signature(public, NOTE, flipped)
    assert not verify_signature(public, NOTE + b"x\n", signature)
    with pytest.raises(InvalidSignature):  # and cryptography agrees
        Ed25519PublicKey.from_public_bytes(base64.b64decode(public)).verify(flipped, NOTE)


@pytest.mark.parametrize(
    ("public", "signature"),
    [
        ("", b"\0" * 64),
        ("not base64!", b"\0" * 64),
        (base64.b64encode(b"\0" * 31).decode(), b"\0" * 64),
        (None, b"\0" * 64),
        ("VALID", b""),
        ("VALID", b"\0" * 63),
        ("VALID", None),
        ("VALID", "a string"),
    ],
)
def test_bad_input_to_verification_is_false_never_an_error(
    key_file: Path, public: object, signature: object
):
    if public == "VALID":
        public = load_signer(key_file).public_key_base64()
    assert verify_signature(public, NOTE, signature) is False  # type: ignore[arg-type]


def test_the_signer_does_not_show_its_private_key(key_file: Path):
    signer = load_signer(key_file)
    assert signer.public_key_base64() in repr(signer)
    assert "PRIVATE" not in repr(signer)
