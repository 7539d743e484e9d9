"""Changing the embedding model: search refuses stale vectors until `kb reindex` has re-embedded them."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from conversations.services import open_services
from core.accounts import create_tenant
from core.settings import Settings
from knowledge.errors import EmbeddingMismatchError
from knowledge.ingest import collect_files, ingest_files
from knowledge.reindex import check_dimension, reindex
from knowledge.search import search
from tests.conftest import KB_FIXTURES


async def test_reindex_follows_the_models_vector_size(tmp_path: Path) -> None:
    # Its own database: the test changes the vector column every tenant shares.
    async with open_services(Settings(data_dir=tmp_path / "data")) as services:
        async with services.database.sessionmaker.begin() as session:
            tenant = await create_tenant(session, "reindexed")
        await ingest_files(
            services.database.sessionmaker, services.embedder, tenant.id, collect_files([KB_FIXTURES])
        )
        # As if the chunks had been made by an older 3-dimension model.
        async with services.database.engine.begin() as conn:
            await conn.execute(text("DROP INDEX ix_knowledge_chunks_embedding"))
            await conn.execute(
                text("ALTER TABLE knowledge_chunks ALTER COLUMN embedding TYPE vector(3) USING '[1,0,0]'")
            )
            await conn.execute(text("UPDATE knowledge_chunks SET embedding_model = 'old-model'"))
        async with services.database.sessionmaker() as session:
            with pytest.raises(EmbeddingMismatchError, match="run `atende kb reindex`"):
                await check_dimension(session, services.embedder)

            total = await session.scalar(text("SELECT count(*) FROM knowledge_chunks"))
        progress: list[tuple[int, int]] = []
        done = await reindex(
            services.database.engine,
            services.database.sessionmaker,
            services.embedder,
            lambda *p: progress.append(p),
        )
        assert total and done == total and progress[-1] == (total, total)
        async with services.database.sessionmaker.begin() as session:
            await check_dimension(session, services.embedder)
            models = set(await session.scalars(text("SELECT DISTINCT embedding_model FROM knowledge_chunks")))
            [top, *_] = await search(
                session, services.embedder, tenant.id, "How do I restart my router?", mode="dense"
            )
        assert models == {"all-MiniLM-L6-v2"}
        assert top.document == "wifi-troubleshooting.md"
        assert await reindex(services.database.engine, services.database.sessionmaker, services.embedder) == 0
