"""Trusted documents in the database, so that every replica knows every one."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from domain.trusted_documents import TrustedDocument
from store.loading import load_first
from store.tables import TrustedDocumentRow, trusted_documents_t, values_of


class SqlTrustedDocuments:
    """Reads and registers trusted documents; never commits."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, document_id: str) -> TrustedDocument | None:
        row = await load_first(
            self.session,
            sa.select(TrustedDocumentRow).where(trusted_documents_t.c.id == document_id),
        )
        return row.to_domain() if row else None

    async def add_missing(self, documents: Sequence[TrustedDocument]) -> int:
        """Register the documents not registered yet; how many were new."""
        if not documents:
            return 0
        ids = [d.id for d in documents]
        known = set(
            (
                await self.session.execute(
                    sa.select(trusted_documents_t.c.id).where(trusted_documents_t.c.id.in_(ids))
                )
            ).scalars()
        )
        new = [d for d in documents if d.id not in known]
        if new:
            await self.session.execute(
                trusted_documents_t.insert(),
                [values_of(TrustedDocumentRow.of(d)) for d in new],
            )
        return len(new)

    async def count(self) -> int:
        return int(
            (
                await self.session.execute(
                    sa.select(sa.func.count()).select_from(trusted_documents_t)
                )
            ).scalar_one()
        )
