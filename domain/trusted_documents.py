"""Trusted documents (persisted operations): GraphQL documents registered ahead of time
and named by the SHA-256 of their text, so that clients send `sha256:<hex>` instead.

A document's id is its content's hash: registering the same document twice is the
same document, and no id can ever name two texts.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from domain.errors import InvalidInputError

PREFIX = "sha256:"
_HEX = re.compile(r"[0-9a-fA-F]{64}")


def document_id(text: str) -> str:
    """The id of `text`: "sha256:" and the hex SHA-256 of its UTF-8 bytes."""
    return PREFIX + hashlib.sha256(text.encode("utf-8")).hexdigest()


def normalise_document_id(raw: object, field: str = "documentId") -> str:
    """`sha256:<hex>`, or a bare hex SHA-256 (as graphql-codegen and Apollo write it),
    as "sha256:<lowercase hex>"; anything else is InvalidInputError."""
    if not isinstance(raw, str):
        raise InvalidInputError(f"{field} must be a string such as sha256:<hex>", field)
    digest = raw[len(PREFIX) :] if raw.lower().startswith(PREFIX) else raw
    if not _HEX.fullmatch(digest):
        raise InvalidInputError(
            f"{field} {raw[:80]!r} is not sha256:<64 hex digits> (other hash algorithms "
            "are not supported)",
            field,
        )
    return PREFIX + digest.lower()


@dataclass(frozen=True)
class TrustedDocument:
    id: str
    text: str
    operation_names: tuple[str, ...]
    registered_at: datetime


def manifest_entries(manifest: object) -> dict[str, str]:
    """A manifest's documents by normalised id, each checked against its text's hash.

    A manifest is a JSON object of id (`sha256:<hex>` or bare hex) to document text, as
    graphql-codegen's client preset (`persistedDocuments`) and Relay's `persistConfig`
    write it. One wrong entry refuses the whole manifest.
    """
    if not isinstance(manifest, Mapping):
        raise InvalidInputError("a manifest is a JSON object of sha256 hash to document text")
    if not manifest:
        raise InvalidInputError("the manifest holds no documents")
    entries: dict[str, str] = {}
    for key, text in manifest.items():
        field = f"manifest[{str(key)[:80]!r}]"
        identifier = normalise_document_id(key, field)
        if not isinstance(text, str) or not text.strip():
            raise InvalidInputError(f"{field} must be the document's text", field)
        if document_id(text) != identifier:
            raise InvalidInputError(
                f"{field} is not the SHA-256 of its document (the document hashes to "
                f"{document_id(text)}); regenerate the manifest",
                field,
            )
        entries[identifier] = text
    return entries


def is_document_id(value: str) -> bool:
    return value.lower().startswith(PREFIX) and bool(_HEX.fullmatch(value[len(PREFIX) :]))


def trusted_documents(
    entries: Mapping[str, str], names: Mapping[str, tuple[str, ...]], now: datetime
) -> list[TrustedDocument]:
    """TrustedDocument values for checked `entries`, with the operation names each holds."""
    return [
        TrustedDocument(identifier, text, names.get(identifier, ()), now)
        for identifier, text in sorted(entries.items())
    ]
