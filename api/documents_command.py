"""`arbiter documents load FILE`: register the trusted documents of a manifest."""

from __future__ import annotations

from pathlib import Path

from api.schema import build_schema
from api.services import Services
from api.settings import Settings
from api.trusted_documents import operation_names_checker, read_manifest
from domain.clock import utcnow
from domain.usecases.documents import register_trusted_documents


async def load_documents(settings: Settings, path: Path) -> tuple[int, int]:
    """Register every document of the manifest at `path` that is not registered yet:
    (new, in the manifest). Raises InvalidInputError, registering nothing, when the file
    is not a manifest, a key is not its document's hash, or a document does not parse
    or validate against the schema."""
    manifest = read_manifest(path)
    schema = build_schema(settings)._schema
    names = operation_names_checker(schema, settings.max_tokens)
    services = Services.from_settings(settings)
    try:
        return await services.run(register_trusted_documents, manifest, names, utcnow())
    finally:
        await services.database.dispose()
