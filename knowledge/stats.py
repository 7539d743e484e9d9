"""Per-tenant term statistics (document frequency, corpus size, average length) for BM25 scoring.

PostgreSQL's own ``ts_rank`` knows no inverse document frequency, which makes rare, telling words
count no more than common ones. The ingest keeps these counts as chunks come and go.
"""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_TERMS = text(
    """
    INSERT INTO knowledge_term_stats (tenant_id, term, df)
    SELECT :tenant_id, lexeme, :sign * count(*)
    FROM knowledge_chunks c, unnest(tsvector_to_array(c.search_vector)) AS lexeme
    WHERE c.tenant_id = :tenant_id AND c.document_id = ANY(:document_ids)
    GROUP BY lexeme
    ORDER BY lexeme
    ON CONFLICT (tenant_id, term) DO UPDATE SET df = knowledge_term_stats.df + excluded.df
    """
)
_CORPUS = text(
    """
    INSERT INTO knowledge_corpus_stats (tenant_id, chunks, total_length)
    SELECT :tenant_id, :sign * count(*), :sign * coalesce(sum(length(search_vector)), 0)
    FROM knowledge_chunks WHERE tenant_id = :tenant_id AND document_id = ANY(:document_ids)
    ON CONFLICT (tenant_id) DO UPDATE SET
        chunks = knowledge_corpus_stats.chunks + excluded.chunks,
        total_length = knowledge_corpus_stats.total_length + excluded.total_length
    """
)


async def count_documents(
    session: AsyncSession, tenant_id: uuid.UUID, document_ids: list[uuid.UUID], sign: int
) -> None:
    """Add (+1) or remove (-1) documents' chunks from the statistics; call before deleting them."""
    if not document_ids:
        return
    params = {"tenant_id": tenant_id, "document_ids": document_ids, "sign": sign}
    await session.execute(_CORPUS, params)
    await session.execute(_TERMS, params)
