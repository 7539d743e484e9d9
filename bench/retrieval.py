"""Retrieval benchmark: BM25 (bm25s) vs dense vs Atende's hybrid search, on a FAQ pool and its questions.

    python bench/retrieval.py --data ../shared/datasets/stackfaq [--questions dev|test] [--scale N] [--json]

The pool is ingested into a fresh tenant through the real ingestion path; every question is run
through each retriever; results are scored at answer level (is one of the question's answer ids in
the top k). Also reported: hybrid search latency (p50/p95, query embedding included), ingest
throughput next to the raw ``SentenceTransformer.encode`` throughput on the same texts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import bm25s
import numpy as np
from rich.console import Console
from rich.table import Table
from sqlalchemy import text

from conversations.services import Services, open_services
from core.accounts import create_tenant
from core.settings import Settings
from knowledge.chunking import chunk_blocks, embedding_text
from knowledge.ingest import IncomingDocument, ingest_documents
from knowledge.parsing import parse_document
from knowledge.search import SearchMode, search

console = Console(stderr=True)


def load(data: Path, questions: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    pool = [json.loads(line) for line in (data / "pool.jsonl").read_text().splitlines() if line.strip()]
    name = f"{questions}_questions.jsonl"
    if not (data / name).exists():
        name = next(p.name for p in data.glob("*_questions.jsonl"))
    asked = [json.loads(line) for line in (data / name).read_text().splitlines() if line.strip()]
    return pool, asked


def as_markdown(entry: dict[str, Any]) -> bytes:
    return f"# {entry['title']}\n\n{entry['text']}\n".encode()


def scores(ranked: list[list[str]], asked: list[dict[str, Any]]) -> dict[str, float]:
    hit1 = hit5 = mrr = 0.0
    for ids, question in zip(ranked, asked, strict=True):
        gold = set(question["answer_ids"])
        first = next((rank for rank, doc in enumerate(ids[:10], start=1) if doc in gold), None)
        hit1 += first == 1
        hit5 += first is not None and first <= 5
        mrr += 1 / first if first else 0
    n = len(asked)
    return {"hit@1": round(hit1 / n, 4), "hit@5": round(hit5 / n, 4), "mrr@10": round(mrr / n, 4)}


def bm25_rankings(pool: list[dict[str, Any]], asked: list[dict[str, Any]]) -> list[list[str]]:
    corpus = [f"{entry['title']} {entry['text']}" for entry in pool]
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(corpus, stopwords="en", show_progress=False), show_progress=False)
    queries = bm25s.tokenize([q["question"] for q in asked], stopwords="en", show_progress=False)
    results, _ = retriever.retrieve(queries, k=10, show_progress=False)
    return [[pool[i]["id"] for i in row] for row in results]


def dedupe(documents: list[str]) -> list[str]:
    return list(dict.fromkeys(documents))


async def rankings(
    services: Services, tenant_id: uuid.UUID, asked: list[dict[str, Any]], mode: SearchMode
) -> tuple[list[list[str]], list[float]]:
    ranked, latencies = [], []
    for question in asked:
        started = time.perf_counter()
        async with services.database.sessionmaker.begin() as session:
            passages = await search(
                session, services.embedder, tenant_id, question["question"], k=20, mode=mode
            )
        latencies.append((time.perf_counter() - started) * 1000)
        ranked.append(dedupe([p.document.removesuffix(".md") for p in passages])[:10])
    return ranked, latencies


async def add_synthetic_chunks(services: Services, tenant_id: uuid.UUID, count: int) -> None:
    """Random unit vectors and random words written straight to the tables (not embedded)."""
    rng = np.random.default_rng(7)
    vocabulary = [f"w{i}" for i in range(5000)]
    dimension = services.embedder.dimension
    async with services.database.sessionmaker.begin() as session:
        collection_id = await session.scalar(
            text("SELECT id FROM knowledge_collections WHERE tenant_id = :t"), {"t": tenant_id}
        )
        document_id = uuid.uuid4()
        await session.execute(
            text(
                """INSERT INTO knowledge_documents (id, tenant_id, collection_id, source, title, content_hash,
                   format, language, size_bytes, status, created_at, updated_at)
                   VALUES (:id, :t, :c, 'synthetic', 'synthetic', '', 'text', 'und', 0, 'embedded', now(), now())"""
            ),
            {"id": document_id, "t": tenant_id, "c": collection_id},
        )
    batch = 5000
    for start in range(0, count, batch):
        size = min(batch, count - start)
        vectors = rng.normal(size=(size, dimension)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        rows = [
            {
                "id": uuid.uuid4(),
                "t": tenant_id,
                "c": collection_id,
                "d": document_id,
                "p": start + i,
                "text": " ".join(rng.choice(vocabulary, size=40)),
                "v": "[" + ",".join(f"{x:.6f}" for x in vector) + "]",
            }
            for i, vector in enumerate(vectors)
        ]
        async with services.database.sessionmaker.begin() as session:
            await session.execute(
                text(
                    """INSERT INTO knowledge_chunks (id, tenant_id, collection_id, document_id, position, heading_path,
                       text, embedding, embedding_model, search_text, fts_config, created_at, updated_at)
                       VALUES (:id, :t, :c, :d, :p, '', :text, CAST(:v AS vector), 'synthetic', :text,
                               'simple', now(), now())"""
                ),
                rows,
            )
        console.print(f"  synthetic chunks: {start + size}/{count}")


def encode_throughput(services: Services, pool: list[dict[str, Any]]) -> tuple[float, int]:
    """Raw ``encode`` on the same texts the ingest embeds, in the same run."""
    embedder = services.embedder
    texts = []
    for entry in pool:
        parsed = parse_document("x.md", as_markdown(entry))
        for chunk in chunk_blocks(parsed.blocks, embedder.count_tokens, embedder.max_tokens - 40):
            texts.append(embedding_text(entry["title"], chunk.heading_path, chunk.text))
    started = time.perf_counter()
    embedder.encode(texts, batch_size=64)
    return len(texts) / (time.perf_counter() - started), len(texts)


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data", type=Path, required=True, help="folder with pool.jsonl and *_questions.jsonl"
    )
    parser.add_argument("--questions", default="dev", help="dev or test (the file <name>_questions.jsonl)")
    parser.add_argument("--scale", type=int, default=0, help="add N synthetic chunks before searching")
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = parser.parse_args()

    pool, asked = load(args.data, args.questions)
    data_dir = Path(tempfile.mkdtemp(prefix="atende-bench-"))
    settings = Settings(data_dir=data_dir) if "ATENDE_DATABASE_URL" not in os.environ else Settings()
    async with open_services(settings) as services:
        services.embedder.encode(["warm up"])
        async with services.database.sessionmaker.begin() as session:
            tenant = await create_tenant(session, f"bench-{uuid.uuid4().hex[:8]}")

        documents = [IncomingDocument(f"{entry['id']}.md", as_markdown(entry)) for entry in pool]
        started = time.perf_counter()
        results = await ingest_documents(
            services.database.sessionmaker, services.embedder, tenant.id, list(documents)
        )
        ingest_seconds = time.perf_counter() - started
        chunks = sum(r.chunks for r in results)
        ingest_rate = chunks / ingest_seconds
        encode_rate, _ = encode_throughput(services, pool)
        console.print(f"ingested {len(results)} documents, {chunks} chunks in {ingest_seconds:.1f}s")

        if args.scale:
            await add_synthetic_chunks(services, tenant.id, args.scale)
            async with services.database.sessionmaker.begin() as session:
                await session.execute(text("ANALYZE knowledge_chunks"))  # as autovacuum would

        bm25 = scores(bm25_rankings(pool, asked), asked)
        dense_ranked, _ = await rankings(services, tenant.id, asked, "dense")
        hybrid_ranked, latencies = await rankings(services, tenant.id, asked, "hybrid")

    report = {
        "bm25": bm25,
        "dense": scores(dense_ranked, asked),
        "hybrid": scores(hybrid_ranked, asked),
        "search_ms": {"p50": round(percentile(latencies, 50), 2), "p95": round(percentile(latencies, 95), 2)},
        "ingest_chunks_per_s": round(ingest_rate, 1),
        "encode_chunks_per_s": round(encode_rate, 1),
        "questions": len(asked),
        "pool": len(pool),
        "scale": args.scale,
    }
    table = Table(
        title=f"Retrieval on {args.data.name} ({len(asked)} {args.questions} questions, {len(pool)} answers)"
    )
    for column in ("retriever", "hit@1", "hit@5", "MRR@10"):
        table.add_column(column)
    for name in ("bm25", "dense", "hybrid"):
        table.add_row(name, *(f"{report[name][m]:.3f}" for m in ("hit@1", "hit@5", "mrr@10")))
    Console().print(table)
    Console().print(
        f"hybrid search p50 {report['search_ms']['p50']:.1f} ms, p95 {report['search_ms']['p95']:.1f} ms"
        f" (scale +{args.scale} chunks)\n"
        f"ingest {ingest_rate:.0f} chunks/s vs raw encode {encode_rate:.0f} chunks/s ({ingest_rate / encode_rate:.0%})"
    )
    if args.json:
        print(json.dumps(report))


if __name__ == "__main__":
    asyncio.run(main())
