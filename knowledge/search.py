"""Hybrid search: pgvector cosine (HNSW) and PostgreSQL full text, fused by reciprocal rank fusion."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from knowledge.embeddings import Embedder
from knowledge.text import content_words, stem_prefix, term_coverage

RRF_K = 60
CANDIDATES = 40


@dataclass(frozen=True)
class Passage:
    chunk_id: str
    document: str
    title: str
    heading_path: str
    text: str
    dense_score: float
    lexical_score: float
    fused_score: float
    term_coverage: float
    """Share of the query's content words found in the passage (by stem)."""

    @property
    def relevance(self) -> float:
        """How well the passage matches: meaning first, shared words as supporting evidence."""
        return self.dense_score + 0.3 * self.term_coverage

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_HYBRID_SQL = text(
    """
    WITH dense AS (
        SELECT id, row_number() OVER (ORDER BY embedding <=> CAST(:vector AS vector)) AS rank
        FROM knowledge_chunks
        WHERE tenant_id = :tenant_id
        ORDER BY embedding <=> CAST(:vector AS vector)
        LIMIT :candidates
    ),
    lexical AS (
        SELECT id, row_number() OVER (ORDER BY ts_rank_cd(search_vector, query) DESC) AS rank
        FROM knowledge_chunks, to_tsquery('simple', :tsquery) AS query
        WHERE tenant_id = :tenant_id AND :tsquery <> '' AND search_vector @@ query
        ORDER BY ts_rank_cd(search_vector, query) DESC
        LIMIT :candidates
    ),
    fused AS (
        SELECT coalesce(dense.id, lexical.id) AS id,
               coalesce(1.0 / (:rrf_k + dense.rank), 0) + coalesce(1.0 / (:rrf_k + lexical.rank), 0) AS fused
        FROM dense FULL OUTER JOIN lexical ON dense.id = lexical.id
    )
    SELECT c.id, d.source, d.title, c.heading_path, c.text, fused.fused,
           1 - (c.embedding <=> CAST(:vector AS vector)) AS dense_score,
           CASE WHEN :tsquery <> '' THEN ts_rank_cd(c.search_vector, to_tsquery('simple', :tsquery)) ELSE 0 END
               AS lexical_score
    FROM fused
    JOIN knowledge_chunks c ON c.id = fused.id AND c.tenant_id = :tenant_id
    JOIN knowledge_documents d ON d.id = c.document_id AND d.tenant_id = :tenant_id
    ORDER BY fused.fused DESC
    LIMIT :k
    """
)


def lexical_query(query: str) -> str:
    """An OR of the query's content words: any shared word is evidence, more words rank higher."""
    terms = dict.fromkeys(stem_prefix(w.replace("'", "")) for w in content_words(query))
    return " | ".join(f"'{t}':*" for t in terms if t)


async def hybrid_search(
    session: AsyncSession, embedder: Embedder, tenant_id: uuid.UUID, query: str, k: int = 5
) -> list[Passage]:
    [vector] = await embedder.aencode([query])
    # Keep scanning the HNSW graph until the tenant filter has yielded enough rows (pgvector 0.8).
    await session.execute(text("SET LOCAL hnsw.iterative_scan = relaxed_order"))
    rows = await session.execute(
        _HYBRID_SQL,
        {
            "vector": "[" + ",".join(f"{x:.7f}" for x in vector.tolist()) + "]",
            "tsquery": lexical_query(query),
            "tenant_id": tenant_id,
            "candidates": max(CANDIDATES, k),
            "rrf_k": RRF_K,
            "k": k,
        },
    )
    return [
        Passage(
            chunk_id=str(row.id),
            document=row.source,
            title=row.title,
            heading_path=row.heading_path,
            text=row.text,
            dense_score=round(float(row.dense_score), 4),
            lexical_score=round(float(row.lexical_score), 4),
            fused_score=round(float(row.fused), 5),
            term_coverage=round(term_coverage(query, f"{row.title} {row.heading_path} {row.text}"), 3),
        )
        for row in rows
    ]
