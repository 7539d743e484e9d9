"""Hybrid search: pgvector cosine (HNSW) and language-aware PostgreSQL full text, fused by reciprocal rank fusion.

Both retrievers are filtered by tenant (and collection) inside the index scan; pgvector's iterative
scan keeps reading the HNSW graph until the filter has let through enough rows, so a filter never
silently returns fewer than k results. Every retriever's score and rank is kept for the decision record.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import AtendeError, ErrorCode
from knowledge.embeddings import Embedder
from knowledge.language import detect_language, fts_config
from knowledge.passages import Passage
from knowledge.rerank import Reranker
from knowledge.text import content_words, strip_accents, term_coverage

RRF_K = 5
FUSION_WEIGHTS = (1.0, 0.3)
"""Dense and lexical weights in the rank fusion. On paraphrased questions sentence embeddings are far
stronger than words (StackFAQ dev, MRR@10: dense 0.969, our BM25 0.792), so words break close calls
between the top dense hits rather than vote as equals: a small k keeps the fusion sharp at the top.
`bench/retrieval.py` measures the choice."""
CANDIDATES = 40
RERANK_CANDIDATES = 20
MAX_QUERY_CHARS = 1000
SearchMode = Literal["hybrid", "dense", "lexical"]


class QueryTooLongError(AtendeError):
    code = ErrorCode.INVALID_INPUT


_SEARCH_SQL = """
WITH dense AS MATERIALIZED (
    SELECT id, row_number() OVER (ORDER BY embedding <=> CAST(:vector AS vector)) AS rank
    FROM knowledge_chunks
    WHERE tenant_id = :tenant_id {collection_filter} AND :use_dense
    ORDER BY embedding <=> CAST(:vector AS vector)
    LIMIT :candidates
),
corpus AS MATERIALIZED (
    SELECT greatest(chunks, 1) AS n, greatest(total_length, 1)::float8 / greatest(chunks, 1) AS avgdl
    FROM knowledge_corpus_stats WHERE tenant_id = :tenant_id
),
terms AS MATERIALIZED (
    -- The query's words as the language's stemmer indexes them ('simple' when the language is unknown).
    SELECT quote_literal(s.term)::tsquery AS tq, ln(1 + (corpus.n - s.df + 0.5) / (s.df + 0.5)) AS idf
    FROM unnest(tsvector_to_array(to_tsvector(CAST(:qconfig AS regconfig), :qtext))) AS q(lexeme)
    JOIN knowledge_term_stats s ON s.tenant_id = :tenant_id AND s.term = q.lexeme AND s.df > 0
    CROSS JOIN corpus
),
lexical_scores AS MATERIALIZED (
    -- BM25 with binary term frequency: idf × (k1 + 1) / (1 + k1 × (1 - b + b × length / avgdl)).
    SELECT c.id, sum(terms.idf * 2.2 / (1 + 1.2 * (0.25 + 0.75 * length(c.search_vector) / corpus.avgdl))) AS score
    FROM terms
    JOIN knowledge_chunks c ON c.search_vector @@ terms.tq
    CROSS JOIN corpus
    WHERE c.tenant_id = :tenant_id {chunk_collection_filter} AND :use_lexical
    GROUP BY c.id
    ORDER BY score DESC, c.id
    LIMIT :candidates
),
lexical AS MATERIALIZED (
    SELECT id, score, row_number() OVER (ORDER BY score DESC, id) AS rank FROM lexical_scores
),
fused AS MATERIALIZED (
    SELECT coalesce(dense.id, lexical.id) AS id, dense.rank AS dense_rank, lexical.rank AS lexical_rank,
           coalesce(lexical.score, 0) AS lexical_score,
           coalesce(CAST(:dense_weight AS float8) / (:rrf_k + dense.rank), 0)
           + coalesce(CAST(:lexical_weight AS float8) / (:rrf_k + lexical.rank), 0) AS fused
    FROM dense FULL OUTER JOIN lexical ON dense.id = lexical.id
)
SELECT c.id, d.source, d.title, c.heading_path, c.text, c.page, fused.fused, fused.dense_rank, fused.lexical_rank,
       fused.lexical_score, 1 - (c.embedding <=> CAST(:vector AS vector)) AS dense_score
FROM fused
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


def lexical_text(query: str) -> str:
    """The query's content words without accents, as the full-text index stores them."""
    return " ".join(dict.fromkeys(strip_accents(w) for w in content_words(query)))


async def search(
    session: AsyncSession,
    embedder: Embedder,
    tenant_id: uuid.UUID,
    query: str,
    k: int = 5,
    *,
    mode: SearchMode = "hybrid",
    collection_id: uuid.UUID | None = None,
    weights: tuple[float, float] = FUSION_WEIGHTS,
    reranker: Reranker | None = None,
    vector: NDArray[np.float32] | None = None,
) -> list[Passage]:
    """The k best chunks of the tenant; ``weights`` scale the dense and lexical ranks in the fusion,
    and a ``reranker`` (a cross-encoder) re-orders the best fused candidates when given. A caller
    that already embedded the query (the agent classifies with the same vector) passes ``vector``."""
    if len(query) > MAX_QUERY_CHARS:
        raise QueryTooLongError(f"query: must have at most {MAX_QUERY_CHARS} characters", field="query")
    if vector is None:
        [vector] = await embedder.aencode([query])
    # One round trip for the transaction's settings: keep scanning the HNSW graph until the tenant
    # filter has let through enough rows (pgvector 0.8 iterative scans); no JIT for a millisecond query.
    await session.execute(
        text(
            "SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true),"
            " set_config('hnsw.ef_search', :ef_search, true), set_config('jit', 'off', true)"
        ),
        {"ef_search": str(max(CANDIDATES, k) * 2)},
    )
    params: dict[str, Any] = {
        "vector": "[" + ",".join(f"{x:.7f}" for x in vector.tolist()) + "]",
        "qconfig": fts_config(detect_language(query, default="und")),
        "qtext": lexical_text(query),
        "tenant_id": tenant_id,
        "candidates": max(CANDIDATES, k),
        "rrf_k": RRF_K,
        "dense_weight": weights[0],
        "lexical_weight": weights[1],
        "k": max(k, RERANK_CANDIDATES) if reranker else k,
        "use_dense": mode in ("hybrid", "dense"),
        "use_lexical": mode in ("hybrid", "lexical"),
    }
    if collection_id:
        params["collection_id"] = collection_id
    rows = await session.execute(_sql(collection_id is not None), params)
    passages = [
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
    return await reranker.rerank(query, passages, k) if reranker else passages
