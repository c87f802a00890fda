"""Registering trusted documents from a manifest."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from domain.ports import UnitOfWork
from domain.trusted_documents import manifest_entries, trusted_documents


async def register_trusted_documents(
    uow: UnitOfWork,
    manifest: object,
    operation_names: Callable[[str, str], tuple[str, ...]],
    now: datetime,
) -> tuple[int, int]:
    """Register every document of `manifest` not registered yet: (new, in the manifest).

    `operation_names(id, text)` names the operations a document holds and raises
    InvalidInputError when the document is not one the schema can run; one bad entry
    registers nothing.
    """
    entries = manifest_entries(manifest)
    names = {identifier: operation_names(identifier, text) for identifier, text in entries.items()}
    documents = trusted_documents(entries, names, now)
    added = await uow.trusted_documents.add_missing(documents)
    await uow.commit()
    return added, len(documents)
