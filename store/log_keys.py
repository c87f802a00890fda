"""The deployment's log signing key: one Ed25519 key that signs every checkpoint.

The private key lives only in the file ARBITER_LOG_SIGNING_KEY_FILE names (PEM, PKCS #8,
unencrypted, mode 0600), made by `arbiter keys create`; it is never written anywhere
else, the database included. Signatures are plain 64-byte Ed25519 signatures (RFC 8032)
of a checkpoint note's bytes (domain.checkpoints); the public half is published as its
raw 32 bytes in standard base64, and `verify_signature` needs nothing more.
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
import stat
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from domain.errors import DomainError

PUBLIC_KEY_SIZE = 32
SIGNATURE_SIZE = 64
KEY_FILE_MODE = 0o600
_CREATE = "run `arbiter keys create`"


class LogKeyError(DomainError):
    """The key file is missing, unreadable, too open, or not an Ed25519 private key."""


class LogSigner:
    """Signs checkpoint notes with the deployment's private key (which it never shows)."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._private_key = private_key

    def sign(self, note: bytes) -> bytes:
        """The 64-byte Ed25519 signature of `note`."""
        return self._private_key.sign(note)

    def public_key_bytes(self) -> bytes:
        """The raw 32-byte public key."""
        return self._private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    def public_key_base64(self) -> str:
        """The raw public key in standard base64: what `logPublicKey` publishes."""
        return base64.b64encode(self.public_key_bytes()).decode("ascii")

    def __repr__(self) -> str:
        return f"LogSigner(public_key={self.public_key_base64()!r})"


def create_key_file(path: Path) -> bool:
    """Create a new key in `path` (mode 0600) and return True; False, touching nothing,
    when `path` already exists.

    The key is written to a new file beside `path` (O_EXCL, 0600) and then linked into
    place, so `path` never holds half a key, and a key made by a concurrent call is kept.
    """
    path = Path(path)
    if path.exists() or path.is_symlink():
        return False
    folder = path.parent
    if not folder.is_dir():
        raise LogKeyError(
            f"cannot create {path}: the folder {folder} does not exist "
            "(create it or fix ARBITER_LOG_SIGNING_KEY_FILE)"
        )
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    temporary = folder / f".{path.name}.{secrets.token_hex(8)}.tmp"
    try:
        _write_private(temporary, pem)
        try:
            os.link(temporary, path)  # unlike rename, never replaces a file there
        except FileExistsError:
            return False
        _sync_folder(folder)
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def load_signer(path: Path) -> LogSigner:
    """The signer whose key `path` holds; LogKeyError saying what to do otherwise."""
    path = Path(path)
    try:
        status = path.stat()
    except FileNotFoundError:
        raise LogKeyError(f"no log signing key at {path}: {_CREATE}") from None
    except OSError as error:
        raise LogKeyError(f"cannot read the log signing key {path}: {error.strerror}") from error
    if not stat.S_ISREG(status.st_mode):
        raise LogKeyError(f"{path} is not a file: fix ARBITER_LOG_SIGNING_KEY_FILE")
    mode = stat.S_IMODE(status.st_mode)
    if mode & 0o077:
        raise LogKeyError(
            f"{path} has mode {mode:04o}, open to its group or others: only its owner may "
            f"read the log signing key (chmod 600 {path})"
        )
    try:
        pem = path.read_bytes()
    except OSError as error:
        raise LogKeyError(f"cannot read the log signing key {path}: {error.strerror}") from error
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as error:
        raise LogKeyError(
            f"{path} does not hold an unencrypted PEM private key: fix "
            f"ARBITER_LOG_SIGNING_KEY_FILE, or move the file away and {_CREATE}"
        ) from error
    if not isinstance(key, Ed25519PrivateKey):
        raise LogKeyError(
            f"{path} holds a {type(key).__name__.removeprefix('_')} key, not an Ed25519 "
            f"private key: move it away and {_CREATE}"
        )
    return LogSigner(key)


def verify_signature(public_key_b64: str, note: bytes, signature: bytes) -> bool:
    """Whether `signature` is the Ed25519 signature of `note` by the raw public key
    `public_key_b64` (standard base64). False for anything else; never raises."""
    try:
        raw = base64.b64decode(public_key_b64, validate=True)
        if len(raw) != PUBLIC_KEY_SIZE or len(signature) != SIGNATURE_SIZE:
            return False
        Ed25519PublicKey.from_public_bytes(raw).verify(bytes(signature), bytes(note))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def _write_private(path: Path, content: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_FILE_MODE)
    with os.fdopen(descriptor, "wb") as file:
        os.fchmod(descriptor, KEY_FILE_MODE)  # whatever the umask
        file.write(content)
        file.flush()
        os.fsync(descriptor)


def _sync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
