"""Hybrid search: pgvector cosine (HNSW) and language-aware PostgreSQL full text, fused by reciprocal rank fusion.

Both retrievers are filtered by tenant (and collection) inside the index scan; pgvector's iterative
scan keeps reading the HNSW graph until the filter has let through enough rows, so a filter never
silently returns fewer than k results. Every retriever's score and rank is kept for the decision record.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from typing import Any, Literal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from knowledge.embeddings import Embedder
from knowledge.errors import KnowledgeError
from knowledge.language import detect_language, fts_config
from knowledge.text import content_words, stem_prefix, strip_accents, term_coverage

RRF_K = 60
CANDIDATES = 40
MAX_QUERY_CHARS = 1000
SearchMode = Literal["hybrid", "dense", "lexical"]


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
    page: int | None = None
    dense_rank: int | None = None
    lexical_rank: int | None = None

    @property
    def relevance(self) -> float:
        """How well the passage matches: meaning first, shared words as supporting evidence."""
        return self.dense_score + 0.3 * self.term_coverage

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class QueryTooLongError(KnowledgeError):
    status_code = 422


_SEARCH_SQL = """
WITH dense AS (
    SELECT id, row_number() OVER (ORDER BY embedding <=> CAST(:vector AS vector)) AS rank
    FROM knowledge_chunks
    WHERE tenant_id = :tenant_id {collection_filter} AND :use_dense
    ORDER BY embedding <=> CAST(:vector AS vector)
    LIMIT :candidates
),
query AS (
    SELECT to_tsquery(CAST(:qconfig AS regconfig), :stemmed) || to_tsquery('simple', :prefixes) AS q
),
lexical AS (
    SELECT c.id, row_number() OVER (ORDER BY ts_rank_cd(c.search_vector, query.q) DESC, c.id) AS rank
    FROM knowledge_chunks c, query
    WHERE c.tenant_id = :tenant_id {chunk_collection_filter} AND :use_lexical AND :prefixes <> ''
      AND c.search_vector @@ query.q
    ORDER BY ts_rank_cd(c.search_vector, query.q) DESC, c.id
    LIMIT :candidates
),
fused AS (
    SELECT coalesce(dense.id, lexical.id) AS id, dense.rank AS dense_rank, lexical.rank AS lexical_rank,
           coalesce(1.0 / (:rrf_k + dense.rank), 0) + coalesce(1.0 / (:rrf_k + lexical.rank), 0) AS fused
    FROM dense FULL OUTER JOIN lexical ON dense.id = lexical.id
)
SELECT c.id, d.source, d.title, c.heading_path, c.text, c.page, fused.fused, fused.dense_rank, fused.lexical_rank,
       1 - (c.embedding <=> CAST(:vector AS vector)) AS dense_score,
       CASE WHEN :prefixes <> '' THEN ts_rank_cd(c.search_vector, query.q) ELSE 0 END AS lexical_score
FROM fused
CROSS JOIN query
JOIN knowledge_chunks c ON c.id = fused.id AND c.tenant_id = :tenant_id
JOIN knowledge_documents d ON d.id = c.document_id AND d.tenant_id = :tenant_id
ORDER BY fused.fused DESC, dense_score DESC
LIMIT :k
"""


def _sql(collection: bool) -> Any:
    return text(
        _SEARCH_SQL.format(
            collection_filter="AND collection_id = :collection_id" if collection else "",
            chunk_collection_filter="AND c.collection_id = :collection_id" if collection else "",
        )
    )


def lexical_terms(query: str) -> tuple[str, str]:
    """Two OR-queries of the query's content words: for the language's stemmer, and as word prefixes."""
    terms = list(dict.fromkeys(strip_accents(w).replace("'", "") for w in content_words(query)))
    terms = [t for t in terms if t.isalnum()]
    stemmed = " | ".join(terms)
    prefixes = " | ".join(f"'{stem_prefix(t)}':*" for t in terms)
    return stemmed, prefixes


async def search(
    session: AsyncSession,
    embedder: Embedder,
    tenant_id: uuid.UUID,
    query: str,
    k: int = 5,
    *,
    mode: SearchMode = "hybrid",
    collection_id: uuid.UUID | None = None,
) -> list[Passage]:
    if len(query) > MAX_QUERY_CHARS:
        raise QueryTooLongError(f"query: must have at most {MAX_QUERY_CHARS} characters", field="query")
    [vector] = await embedder.aencode([query])
    stemmed, prefixes = lexical_terms(query)
    # Keep scanning the HNSW graph until the tenant filter has yielded enough rows (pgvector 0.8).
    await session.execute(text("SET LOCAL hnsw.iterative_scan = relaxed_order"))
    await session.execute(text(f"SET LOCAL hnsw.ef_search = {max(CANDIDATES, k) * 2}"))
    params: dict[str, Any] = {
        "vector": "[" + ",".join(f"{x:.7f}" for x in vector.tolist()) + "]",
        "qconfig": fts_config(detect_language(query, default="und")),
        "stemmed": stemmed or "''",
        "prefixes": prefixes,
        "tenant_id": tenant_id,
        "candidates": max(CANDIDATES, k),
        "rrf_k": RRF_K,
        "k": k,
        "use_dense": mode in ("hybrid", "dense"),
        "use_lexical": mode in ("hybrid", "lexical"),
    }
    if collection_id:
        params["collection_id"] = collection_id
    rows = await session.execute(_sql(collection_id is not None), params)
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
            page=row.page,
            dense_rank=row.dense_rank,
            lexical_rank=row.lexical_rank,
        )
        for row in rows
    ]


async def hybrid_search(
    session: AsyncSession, embedder: Embedder, tenant_id: uuid.UUID, query: str, k: int = 5
) -> list[Passage]:
    return await search(session, embedder, tenant_id, query, k)
