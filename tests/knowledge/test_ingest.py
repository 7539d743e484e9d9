"""Ingesting files: formats, re-ingest, unreadable files, and what search finds afterwards."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import func, select

from conversations.services import Services
from knowledge.ingest import IngestStatus, collect_files, ingest_files
from knowledge.models import Chunk, Document
from knowledge.search import search
from tests.conftest import KB_FIXTURES, MakeTenant


async def _search(services: Services, tenant_id, query: str, k: int = 5):
    async with services.database.sessionmaker.begin() as session:
        return await search(session, services.embedder, tenant_id, query, k)


async def test_folder_ingest_names_documents_by_relative_path(
    services: Services, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant(with_kb=False)
    results = await ingest_files(
        services.database.sessionmaker, services.embedder, tenant.id, collect_files([KB_FIXTURES])
    )
    assert {r.source for r in results} == {
        "segunda-via-boleto.md",
        "wifi-troubleshooting.md",
        "planos/mudanca-de-endereco.md",
    }
    assert all(r.status == IngestStatus.ADDED and r.chunks > 0 for r in results)

    passages = await _search(services, tenant.id, "How do I restart my router?")
    assert passages[0].document == "wifi-troubleshooting.md"
    best = max(passages, key=lambda p: p.relevance)
    assert best.heading_path == "Wi-Fi troubleshooting"
    assert "unplug it from the power socket" in best.text


async def test_reingest_skips_unchanged_and_replaces_changed(
    services: Services, make_tenant: MakeTenant, tmp_path: Path
) -> None:
    tenant = await make_tenant(with_kb=False)
    kb = tmp_path / "kb"
    shutil.copytree(KB_FIXTURES, kb)
    maker = services.database.sessionmaker
    await ingest_files(maker, services.embedder, tenant.id, collect_files([kb]))

    again = await ingest_files(maker, services.embedder, tenant.id, collect_files([kb]))
    assert {r.status for r in again} == {IngestStatus.UNCHANGED}

    (kb / "wifi-troubleshooting.md").write_text(
        "# Wi-Fi troubleshooting\n\nTo reset the router to factory settings, hold the reset button for 15 seconds.\n"
    )
    changed = {
        r.source: r.status
        for r in await ingest_files(maker, services.embedder, tenant.id, collect_files([kb]))
    }
    assert changed["wifi-troubleshooting.md"] == IngestStatus.UPDATED
    assert changed["segunda-via-boleto.md"] == IngestStatus.UNCHANGED

    async with maker() as session:
        texts = list(
            await session.scalars(
                select(Chunk.text)
                .join(Document, Document.id == Chunk.document_id)
                .where(Document.tenant_id == tenant.id, Document.source == "wifi-troubleshooting.md")
            )
        )
    assert len(texts) == 1
    assert "factory settings" in texts[0]
    assert not any("unplug it from the power socket" in t for t in texts)


async def test_unreadable_files_are_reported_and_skipped(
    services: Services, make_tenant: MakeTenant, tmp_path: Path
) -> None:
    tenant = await make_tenant(with_kb=False)
    (tmp_path / "good.md").write_text("# Horário\n\nA loja abre às 9h e fecha às 18h, de segunda a sábado.\n")
    (tmp_path / "binary.md").write_bytes(b"\xff\xfe\x00\x81 not utf-8 \xc3\x28")
    (tmp_path / "empty.txt").write_text("   \n")
    (tmp_path / "sheet.xlsx").write_bytes(b"PK\x03\x04 truncated")
    (tmp_path / "slides.odp").write_bytes(b"PK\x03\x04")
    files = collect_files(
        [
            tmp_path / "good.md",
            tmp_path / "binary.md",
            tmp_path / "empty.txt",
            tmp_path / "sheet.xlsx",
            tmp_path / "slides.odp",
            tmp_path / "missing.md",
        ]
    )
    results = {
        r.source: r
        for r in await ingest_files(services.database.sessionmaker, services.embedder, tenant.id, files)
    }

    assert results["good.md"].status == IngestStatus.ADDED
    assert results["binary.md"].error == "not UTF-8 text"
    assert results["empty.txt"].error == "empty file"
    assert results["sheet.xlsx"].error == "not a valid XLSX file"
    assert results["slides.odp"].error == "unsupported file type .odp"
    assert results["missing.md"].error == "file not found"
    async with services.database.sessionmaker() as session:
        sources = set(await session.scalars(select(Document.source).where(Document.tenant_id == tenant.id)))
    assert sources == {"good.md"}


async def test_search_never_returns_another_tenants_chunk(
    services: Services, make_tenant: MakeTenant, tmp_path: Path
) -> None:
    first, second = await make_tenant(with_kb=False), await make_tenant(with_kb=False)
    for tenant, city in ((first, "Recife"), (second, "Manaus")):
        (tmp_path / tenant.slug).mkdir()
        (tmp_path / tenant.slug / "loja.md").write_text(
            f"# Nossa loja\n\nNossa loja física fica em {city}, no centro, e abre de segunda a sexta.\n"
        )
        await ingest_files(
            services.database.sessionmaker,
            services.embedder,
            tenant.id,
            collect_files([tmp_path / tenant.slug]),
        )
    for tenant, city, other in ((first, "Recife", "Manaus"), (second, "Manaus", "Recife")):
        passages = await _search(services, tenant.id, f"Onde fica a loja física? {other}", k=10)
        assert passages, "the tenant's own document must be found"
        assert all(city in p.text and other not in p.text for p in passages)

    async with services.database.sessionmaker() as session:
        assert (
            await session.scalar(select(func.count()).select_from(Chunk).where(Chunk.tenant_id == first.id))
            == 1
        )


async def test_term_statistics_follow_adds_updates_and_deletes(
    services: Services, make_tenant: MakeTenant, tmp_path: Path
) -> None:
    from sqlalchemy import text

    from knowledge.service import delete_documents

    tenant = await make_tenant(with_kb=False)
    kb = tmp_path / "kb"
    shutil.copytree(KB_FIXTURES, kb)
    maker = services.database.sessionmaker
    await ingest_files(maker, services.embedder, tenant.id, collect_files([kb]))
    (kb / "wifi-troubleshooting.md").write_text("# Wi-Fi\n\nHold the reset button for 15 seconds.\n")
    await ingest_files(maker, services.embedder, tenant.id, collect_files([kb]))
    async with maker.begin() as session:
        await delete_documents(session, tenant.id, ["segunda-via-boleto.md"])

    async with maker() as session:
        kept = dict(
            (
                await session.execute(
                    text("SELECT term, df FROM knowledge_term_stats WHERE tenant_id = :t AND df > 0"),
                    {"t": tenant.id},
                )
            )
            .tuples()
            .all()
        )
        actual = dict(
            (
                await session.execute(
                    text(
                        "SELECT lexeme, count(*) FROM knowledge_chunks c,"
                        " unnest(tsvector_to_array(c.search_vector)) lexeme WHERE c.tenant_id = :t GROUP BY lexeme"
                    ),
                    {"t": tenant.id},
                )
            )
            .tuples()
            .all()
        )
        corpus = (
            await session.execute(
                text("SELECT chunks FROM knowledge_corpus_stats WHERE tenant_id = :t"), {"t": tenant.id}
            )
        ).scalar()
        chunks = await session.scalar(
            select(func.count()).select_from(Chunk).where(Chunk.tenant_id == tenant.id)
        )
    assert kept == actual
    assert "reset" in kept and "boleto" not in kept
    assert corpus == chunks
