"""The `arbiter keys` commands: the log signing key that signs checkpoints
(registered in api.cli.COMMANDS). Neither touches the database."""

from __future__ import annotations

import argparse
from pathlib import Path

from api.cli_errors import CliError
from api.settings import get_settings


def _key_file() -> Path:
    """The file ARBITER_LOG_SIGNING_KEY_FILE names, or a CliError saying to set it."""
    path = get_settings().log_signing_key_file
    if path is None:
        raise CliError(
            "ARBITER_LOG_SIGNING_KEY_FILE is not set: set it to the file that is to hold "
            "the log signing key, e.g. /etc/arbiter/log-signing.pem"
        )
    return path.absolute()


def keys_create(_: argparse.Namespace) -> int:
    """`arbiter keys create`: make the key file (mode 0600) when missing; either way,
    say where it is and print the public key last."""
    from store.log_keys import create_key_file, load_signer

    path = _key_file()
    created = create_key_file(path)
    public_key = load_signer(path).public_key_base64()  # an unsafe existing file: refused
    if created:
        print(f"created the log signing key in {path} (mode 0600); its public key:")
    else:
        print(f"{path} already holds the log signing key, left as it is; its public key:")
    print(public_key)
    return 0


def keys_show(_: argparse.Namespace) -> int:
    """`arbiter keys show`: the public key (raw Ed25519, standard base64)."""
    from store.log_keys import load_signer

    print(load_signer(_key_file()).public_key_base64())
    return 0
