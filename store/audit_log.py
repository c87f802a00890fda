"""Reading the whole decision log back to verify its hash chains."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from domain.audit import ChainBreak, ChainVerifier
from store import mappers
from store.database import Database
from store.tables import decisions_t, workflows_t

BATCH = 5_000


@dataclass(frozen=True)
class ChainReport:
    workflow_key: str
    records: int
    problem: ChainBreak | None


async def verify_log(database: Database) -> list[ChainReport]:
    """Verify every workflow's chain, reading the log in batches of `BATCH` records."""
    reports = []
    async with database.read_engine.connect() as connection:
        heads = list(
            await connection.execute(
                sa.select(
                    workflows_t.c.id,
                    workflows_t.c.key,
                    workflows_t.c.chain_seq,
                    workflows_t.c.chain_head,
                ).order_by(workflows_t.c.key)
            )
        )
        for head in heads:
            verifier, records, problem, after = ChainVerifier(), 0, None, 0
            while problem is None:
                rows = list(
                    await connection.execute(
                        sa.select(decisions_t)
                        .where(decisions_t.c.workflow_id == head.id, decisions_t.c.seq > after)
                        .order_by(decisions_t.c.seq)
                        .limit(BATCH)
                    )
                )
                if not rows:
                    break
                for row in rows:
                    records += 1
                    problem = verifier.feed(mappers.decision(row))
                    if problem is not None:
                        break
                after = rows[-1].seq
            if problem is None:
                problem = verifier.finish(head.chain_seq, head.chain_head)
            reports.append(ChainReport(head.key, records, problem))
    return reports
