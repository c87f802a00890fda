"""`arbiter audit export ITEM_ID [--out FILE]`: write one item's evidence pack, its
decisions with their inclusion proofs under a signed checkpoint, for checking offline
with tools/verify_evidence.py (registered in api.cli.COMMANDS)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from pathlib import Path
from typing import Any

from api.cli_errors import CliError
from api.settings import get_settings

NO_KEY = (
    "ARBITER_LOG_SIGNING_KEY_FILE is not set: an evidence pack needs a checkpoint signed "
    "with the log signing key (set it to the deployment's key file)"
)


async def _pack(item_id: str) -> dict[str, Any]:
    from store.database import connect
    from store.evidence import evidence_pack
    from store.log_keys import load_signer
    from store.log_tree import Signing
    from store.queries import Reads

    settings = get_settings()
    if settings.log_signing_key_file is None:
        raise CliError(NO_KEY)
    signing = Signing(load_signer(settings.log_signing_key_file), settings.log_origin)
    database = connect(settings.database_url)
    try:
        async with database.read_sessions()() as session:
            return await evidence_pack(Reads(session), signing, item_id)
    finally:
        await database.dispose()


def _write(path: Path, pack: dict[str, Any]) -> None:
    """Write the pack whole or not at all (a temporary file beside it, then renamed)."""
    text = json.dumps(pack, indent=2, ensure_ascii=False) + "\n"
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise CliError(f"cannot write {path}: {error.strerror or error}") from error


def audit_export(args: argparse.Namespace) -> int:
    """`arbiter audit export ITEM_ID`: the item's evidence pack in --out (default
    evidence-ITEM_ID.json here); says where, and how to verify it."""
    pack = asyncio.run(_pack(args.item_id))
    path = Path(args.out) if args.out else Path(f"evidence-{args.item_id}.json")
    _write(path, pack)
    count = len(pack["decisions"])
    print(
        f"wrote {path}: {count} decision{'s' if count != 1 else ''} of item {args.item_id} "
        f"under the checkpoint at tree size {pack['checkpoint']['treeSize']} of "
        f"{pack['log']['origin']}"
    )
    print(
        f"verify it: python tools/verify_evidence.py {path} --public-key {pack['log']['publicKey']}"
    )
    return 0


def audit_export_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("item_id", metavar="ITEM_ID", help="the item's id (rec_...)")
    command.add_argument(
        "--out", metavar="FILE", help="where to write the pack (default evidence-ITEM_ID.json)"
    )
