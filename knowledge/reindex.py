"""Re-embed chunks after the embedding model setting changes; the vector column follows the model's size."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from knowledge.chunking import embedding_text
from knowledge.embeddings import Embedder
from knowledge.errors import EmbeddingMismatchError

BATCH = 256


async def stored_dimension(session: AsyncSession) -> int:
    """The vector size the chunks table holds now."""
    value = await session.scalar(
        text(
            "SELECT atttypmod FROM pg_attribute "
            "WHERE attrelid = 'knowledge_chunks'::regclass AND attname = 'embedding'"
        )
    )
    return int(value or 0)


async def check_dimension(session: AsyncSession, embedder: Embedder) -> None:
    stored = await stored_dimension(session)
    if stored != embedder.dimension:
        raise EmbeddingMismatchError(
            f"the embedding model {embedder.model_name} makes {embedder.dimension}-dimension vectors but the "
            f"knowledge base holds {stored}-dimension ones: run `atende kb reindex`"
        )


async def _resize(engine: AsyncEngine, dimension: int) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("DROP INDEX IF EXISTS ix_knowledge_chunks_embedding"))
        await conn.execute(text("ALTER TABLE knowledge_chunks ALTER COLUMN embedding DROP NOT NULL"))
        await conn.execute(
            text(
                f"ALTER TABLE knowledge_chunks ALTER COLUMN embedding TYPE vector({int(dimension)}) USING NULL"
            )
        )


async def reindex(
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    embedder: Embedder,
    on_progress: Callable[[int, int], None] | None = None,
) -> int:
    """Re-embed every chunk made by another model (all of them when the vector size changes).

    Search is unavailable while the vector size changes; re-embedding in place keeps it available.
    """
    async with sessionmaker() as session:
        resized = await stored_dimension(session) != embedder.dimension
    if resized:
        await _resize(engine, embedder.dimension)
    async with sessionmaker() as session:
        total = int(
            await session.scalar(
                text(
                    "SELECT count(*) FROM knowledge_chunks WHERE embedding IS NULL OR embedding_model <> :model"
                ),
                {"model": embedder.model_name},
            )
            or 0
        )
    done = 0
    while True:
        async with sessionmaker.begin() as session:
            rows = (
                await session.execute(
                    text(
                        """SELECT c.id, d.title, c.heading_path, c.text FROM knowledge_chunks c
                           JOIN knowledge_documents d ON d.id = c.document_id
                           WHERE c.embedding IS NULL OR c.embedding_model <> :model
                           ORDER BY c.id LIMIT :batch FOR UPDATE OF c SKIP LOCKED"""
                    ),
                    {"model": embedder.model_name, "batch": BATCH},
                )
            ).all()
            if not rows:
                break
            texts = [embedding_text(row.title, row.heading_path, row.text) for row in rows]
            vectors = await embedder.aencode(texts)
            await session.execute(
                text(
                    "UPDATE knowledge_chunks SET embedding = CAST(:vector AS vector), embedding_model = :model "
                    "WHERE id = :id"
                ),
                [
                    {
                        "id": row.id,
                        "vector": "[" + ",".join(f"{x:.7f}" for x in vector) + "]",
                        "model": embedder.model_name,
                    }
                    for row, vector in zip(rows, vectors, strict=True)
                ],
            )
        done += len(rows)
        if on_progress:
            on_progress(done, total)
    if resized:
        async with engine.begin() as conn:
            await conn.execute(text("ALTER TABLE knowledge_chunks ALTER COLUMN embedding SET NOT NULL"))
            await conn.execute(
                text(
                    "CREATE INDEX ix_knowledge_chunks_embedding ON knowledge_chunks "
                    "USING hnsw (embedding vector_cosine_ops)"
                )
            )
    return done
