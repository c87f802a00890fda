"""Trusted documents as the API serves them: ids in requests, a per-process registry,
and the manifest loader behind `arbiter documents load`.

Documents are stored in the database (every replica knows every one) and are
immutable (an id is its text's hash), so each process keeps those it has met for
good: a trusted document is read from the database, parsed and validated once per
process.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    parse,
    specified_rules,
    validate,
)

from domain.errors import InvalidInputError
from domain.trusted_documents import TrustedDocument, document_id, normalise_document_id
from store.trusted_documents import SqlTrustedDocuments

if TYPE_CHECKING:
    from api.services import Services

DOCUMENT_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
TRUSTED_DOCUMENT_REQUIRED = "TRUSTED_DOCUMENT_REQUIRED"


class DocumentIdError(Exception):
    """A request names a document in a form that cannot be an id."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def document_id_from_request(extensions: object, raw_document_id: object) -> str | None:
    """The trusted document a request names: `documentId` (the GraphQL-over-HTTP
    convention) or Apollo's `extensions.persistedQuery.sha256Hash`; None for neither."""
    try:
        if raw_document_id is not None:
            return normalise_document_id(raw_document_id, "documentId")
        persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
        if persisted is None:
            return None
        if not isinstance(persisted, dict) or "sha256Hash" not in persisted:
            raise DocumentIdError("extensions.persistedQuery must carry sha256Hash")
        if persisted.get("version", 1) != 1:
            raise DocumentIdError("extensions.persistedQuery: only version 1 is supported")
        return normalise_document_id(
            persisted["sha256Hash"], "extensions.persistedQuery.sha256Hash"
        )
    except InvalidInputError as error:
        raise DocumentIdError(error.message) from error


def unknown_document_error(identifier: str) -> GraphQLError:
    return GraphQLError(
        f"no trusted document {identifier} is registered here (PersistedQueryNotFound); "
        "register it with `arbiter documents load MANIFEST`",
        extensions={"code": DOCUMENT_NOT_FOUND},
    )


def trusted_documents_only_error() -> GraphQLError:
    return GraphQLError(
        "this server runs trusted documents only: send the id of a registered document "
        '({"documentId": "sha256:<hex>"}) instead of its text',
        extensions={"code": TRUSTED_DOCUMENT_REQUIRED},
    )


class TrustedDocumentRegistry:
    """The trusted documents this process has met, with their parsed and validated forms."""

    def __init__(self, on_new_names: Callable[[Sequence[str]], None] | None = None) -> None:
        self._texts: dict[str, str] = {}
        self._known_texts: set[str] = set()
        self._parsed: dict[str, DocumentNode] = {}
        self._validated: dict[tuple[str, tuple[Any, ...]], list[GraphQLError]] = {}
        self._on_new_names = on_new_names

    def knows(self, text: str | None) -> bool:
        """Whether `text` is a trusted document this process has already met."""
        return text is not None and text in self._known_texts

    async def text_for(self, services: Services, identifier: str) -> str | None:
        """The text of the trusted document `identifier`, or None when none is registered."""
        text = self._texts.get(identifier)
        if text is not None:
            return text
        async with services.read_session() as session:
            document = await SqlTrustedDocuments(session).get(identifier)
        if document is None:
            return None
        self._remember(document)
        return document.text

    async def is_trusted(self, services: Services, text: str | None) -> bool:
        """Whether `text` is exactly a registered trusted document."""
        if text is None:
            return False
        if text in self._known_texts:
            return True
        return await self.text_for(services, document_id(text)) == text

    def parsed(self, text: str, parse_options: dict[str, Any]) -> DocumentNode:
        """A known trusted document, parsed once per process."""
        document = self._parsed.get(text)
        if document is None:
            document = parse(text, **parse_options)
            self._parsed[text] = document
        return document

    def validated(
        self,
        text: str,
        validate_document: Callable[..., list[GraphQLError]],
        schema: GraphQLSchema,
        document: DocumentNode,
        rules: tuple[Any, ...],
    ) -> list[GraphQLError]:
        """A known trusted document's validation errors under `rules`, computed once."""
        key = (text, rules)
        errors = self._validated.get(key)
        if errors is None:
            errors = validate_document(schema, document, rules)
            self._validated[key] = errors
        return errors

    def _remember(self, document: TrustedDocument) -> None:
        self._texts[document.id] = document.text
        self._known_texts.add(document.text)
        if self._on_new_names is not None and document.operation_names:
            self._on_new_names(document.operation_names)


def operation_names_checker(
    schema: GraphQLSchema, max_tokens: int
) -> Callable[[str, str], tuple[str, ...]]:
    """For registering: the names of a document's operations, or InvalidInputError when
    the document does not parse or does not validate against `schema`."""

    def names(identifier: str, text: str) -> tuple[str, ...]:
        try:
            document = parse(text, max_tokens=max_tokens)
        except GraphQLError as error:
            raise InvalidInputError(f"document {identifier}: {error.message}") from error
        errors = validate(schema, document, specified_rules)
        if errors:
            raise InvalidInputError(f"document {identifier}: {errors[0].message}")
        return tuple(
            d.name.value
            for d in document.definitions
            if isinstance(d, OperationDefinitionNode) and d.name is not None
        )

    return names


def read_manifest(path: Path) -> object:
    """The manifest file's JSON, or InvalidInputError saying why it cannot be read."""
    try:
        return orjson.loads(path.read_bytes())
    except OSError as error:
        raise InvalidInputError(f"cannot read {path}: {error.strerror or error}") from error
    except orjson.JSONDecodeError as error:
        raise InvalidInputError(f"{path} is not JSON: {error}") from error
