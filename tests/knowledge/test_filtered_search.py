"""A tenant filter never makes search return fewer than k results, even through the HNSW index."""

from __future__ import annotations

import uuid

import numpy as np
from sqlalchemy import text

from conversations.services import Services
from knowledge.ingest import IncomingDocument, ingest_documents
from knowledge.search import search
from tests.conftest import MakeTenant


async def test_k_results_when_another_tenant_crowds_the_neighbourhood(
    services: Services, make_tenant: MakeTenant
) -> None:
    mine, crowd = await make_tenant(with_kb=False), await make_tenant(with_kb=False)
    documents = [
        IncomingDocument(
            f"faq-{i}.md", f"# Pergunta {i}\n\nO item {i} da loja tem garantia de {i} meses.\n".encode()
        )
        for i in range(12)
    ]
    await ingest_documents(services.database.sessionmaker, services.embedder, mine.id, documents)
    query = "quanto tempo de garantia tem o item?"
    [vector] = services.embedder.encode([query])
    rng = np.random.default_rng(3)
    async with services.database.sessionmaker.begin() as session:
        collection_id = await session.scalar(
            text(
                "INSERT INTO knowledge_collections (id, tenant_id, name, created_at, updated_at) "
                "VALUES (:id, :t, 'default', now(), now()) RETURNING id"
            ),
            {"id": uuid.uuid4(), "t": crowd.id},
        )
        document_id = uuid.uuid4()
        await session.execute(
            text(
                "INSERT INTO knowledge_documents (id, tenant_id, collection_id, source, title, content_hash, format,"
                " language, size_bytes, status, created_at, updated_at)"
                " VALUES (:id, :t, :c, 'crowd.md', 'crowd', '', 'markdown', 'pt', 0, 'embedded', now(), now())"
            ),
            {"id": document_id, "t": crowd.id, "c": collection_id},
        )
        # 400 chunks of the other tenant sit right around the query: nearer than any of mine.
        near = vector + rng.normal(scale=0.01, size=(400, vector.shape[0]))
        await session.execute(
            text(
                "INSERT INTO knowledge_chunks (id, tenant_id, collection_id, document_id, position, heading_path, text,"
                " embedding, embedding_model, search_text, fts_config, created_at, updated_at)"
                " VALUES (:id, :t, :c, :d, :p, '', 'x', CAST(:v AS vector), 'm', 'x', 'simple', now(), now())"
            ),
            [
                {
                    "id": uuid.uuid4(),
                    "t": crowd.id,
                    "c": collection_id,
                    "d": document_id,
                    "p": i,
                    "v": "[" + ",".join(f"{x:.6f}" for x in row) + "]",
                }
                for i, row in enumerate(near)
            ],
        )
    async with services.database.sessionmaker.begin() as session:
        # Make the planner walk the HNSW index, as it does on a large table.
        await session.execute(text("SET LOCAL enable_seqscan = off"))
        await session.execute(text("SET LOCAL enable_bitmapscan = off"))
        await session.execute(text("SET LOCAL enable_sort = off"))
        passages = await search(session, services.embedder, mine.id, query, k=10, mode="dense")
    assert len(passages) == 10
    assert {p.document for p in passages} <= {d.source for d in documents}
    # Without pgvector's iterative scan the same filtered index walk comes back short.
    async with services.database.sessionmaker.begin() as session:
        await session.execute(text("SET LOCAL enable_seqscan = off"))
        await session.execute(text("SET LOCAL enable_bitmapscan = off"))
        await session.execute(text("SET LOCAL enable_sort = off"))
        await session.execute(text("SET LOCAL hnsw.iterative_scan = off"))
        short = await session.scalar(
            text(
                "SELECT count(*) FROM (SELECT id FROM knowledge_chunks WHERE tenant_id = :t"
                " ORDER BY embedding <=> CAST(:v AS vector) LIMIT 10) AS found"
            ),
            {"t": mine.id, "v": "[" + ",".join(f"{x:.7f}" for x in vector) + "]"},
        )
    assert short is not None and short < 10
