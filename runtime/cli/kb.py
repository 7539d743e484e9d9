"""The knowledge base: ingest, list, delete, re-index and search."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from core.accounts import get_tenant
from core.migrate import migrated_database
from core.settings import get_settings
from knowledge.ingest import IngestResult, IngestStatus, collect_files, ingest_files
from knowledge.models import DEFAULT_COLLECTION
from knowledge.reindex import check_dimension, reindex
from knowledge.search import SearchMode, search
from knowledge.service import delete_documents, find_collection, list_documents
from runtime.cli._run import err, run_async

if TYPE_CHECKING:
    from conversations.services import Services


@click.group()
def kb() -> None:
    """Knowledge base."""


@kb.command("ingest")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--tenant", "tenant_slug", required=True)
@click.option("--collection", default=DEFAULT_COLLECTION, show_default=True)
@run_async
async def kb_ingest(paths: tuple[Path, ...], tenant_slug: str, collection: str) -> None:
    """Ingest files and folders: Markdown, text, PDF, DOCX, HTML, CSV/XLSX FAQs. Unchanged files are skipped."""
    from conversations.services import open_services

    async with open_services(get_settings()) as services:
        failed = await ingest_into(services, tenant_slug, list(paths), Console(), collection)
    if failed:
        sys.exit(1)


async def ingest_into(
    services: Services,
    tenant_slug: str,
    paths: list[Path],
    console: Console,
    collection: str = DEFAULT_COLLECTION,
) -> int:
    """Ingest with a progress bar; returns how many files failed."""
    async with services.database.sessionmaker() as session:
        owner = await get_tenant(session, tenant_slug)
        await check_dimension(session, services.embedder)
    files = collect_files(paths)
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=console
    ) as bar:
        task = bar.add_task("ingesting", total=len(files))

        def advance(result: IngestResult) -> None:
            bar.advance(task)
            if result.status == IngestStatus.FAILED:
                bar.console.print(f"[red]failed[/red] {result.source}: {result.error}")

        results = await ingest_files(
            services.database.sessionmaker,
            services.embedder,
            owner.id,
            files,
            advance,
            collection=collection,
            max_bytes=services.settings.max_upload_bytes,
            limits=services.settings.parse_limits,
        )
    counts = {status: sum(1 for r in results if r.status == status) for status in IngestStatus}
    console.print(", ".join(f"{n} {status.value}" for status, n in counts.items()))
    return counts[IngestStatus.FAILED]


@kb.command("list")
@click.option("--tenant", "tenant_slug", required=True)
@click.option("--collection", default=None)
@click.option("--json", "as_json", is_flag=True)
@run_async
async def kb_list(tenant_slug: str, collection: str | None, as_json: bool) -> None:
    """Documents of a tenant, newest first."""
    async with migrated_database(get_settings()) as database, database.sessionmaker() as session:
        owner = await get_tenant(session, tenant_slug)
        rows = await list_documents(session, owner.id, collection)
    listing = [
        {
            "collection": name,
            "source": d.source,
            "title": d.title,
            "format": d.format,
            "language": d.language,
            "chunks": chunks,
            "status": d.status,
            "updated_at": d.updated_at.isoformat(timespec="seconds"),
        }
        for d, name, chunks in rows
    ]
    if as_json:
        click.echo(json.dumps(listing, ensure_ascii=False))
        return
    table = Table("collection", "document", "title", "format", "lang", "chunks", "status", "updated")
    for row in listing:
        table.add_row(
            *(
                str(row[k])
                for k in (
                    "collection",
                    "source",
                    "title",
                    "format",
                    "language",
                    "chunks",
                    "status",
                    "updated_at",
                )
            )
        )
    Console().print(table)


@kb.command("delete")
@click.argument("sources", nargs=-1, required=True)
@click.option("--tenant", "tenant_slug", required=True)
@click.option("--collection", default=None)
@run_async
async def kb_delete(sources: tuple[str, ...], tenant_slug: str, collection: str | None) -> None:
    """Delete documents (by the name `kb list` shows) and their chunks."""
    async with migrated_database(get_settings()) as database, database.sessionmaker.begin() as session:
        owner = await get_tenant(session, tenant_slug)
        deleted = await delete_documents(session, owner.id, list(sources), collection)
    missing = sorted(set(sources) - set(deleted))
    Console().print(
        f"deleted {len(deleted)} document(s)" + (f"; not found: {', '.join(missing)}" if missing else "")
    )
    if missing:
        sys.exit(1)


@kb.command("reindex")
@run_async
async def kb_reindex() -> None:
    """Re-embed every chunk made by another embedding model (after ATENDE_EMBEDDING_MODEL changes)."""
    from conversations.services import open_services

    async with open_services(get_settings()) as services:
        with Progress(TextColumn("re-embedding"), BarColumn(), MofNCompleteColumn(), console=err) as bar:
            task = bar.add_task("reindex", total=None)
            done = await reindex(
                services.database.engine,
                services.database.sessionmaker,
                services.embedder,
                lambda current, total: bar.update(task, completed=current, total=total),
            )
    Console().print(f"re-embedded {done} chunk(s) with {services.embedder.model_name}")


@kb.command("search")
@click.argument("query")
@click.option("--tenant", "tenant_slug", required=True)
@click.option("--k", default=5, show_default=True, type=click.IntRange(1, 100))
@click.option("--collection", default=None)
@click.option(
    "--mode", type=click.Choice(["hybrid", "dense", "lexical"]), default="hybrid", show_default=True
)
@click.option("--json", "as_json", is_flag=True)
@run_async
async def kb_search(
    query: str, tenant_slug: str, k: int, collection: str | None, mode: SearchMode, as_json: bool
) -> None:
    """Ranked chunks with their document, heading path, page and each retriever's score and rank."""
    from conversations.services import open_services

    async with open_services(get_settings()) as services, services.database.sessionmaker.begin() as session:
        owner = await get_tenant(session, tenant_slug)
        await check_dimension(session, services.embedder)
        collection_id = None
        if collection:
            found = await find_collection(session, owner.id, collection)
            if found is None:
                raise click.ClickException(f"collection {collection!r} not found")
            collection_id = found.id
        passages = await search(
            session,
            services.embedder,
            owner.id,
            query,
            k,
            mode=mode,
            collection_id=collection_id,
            reranker=services.reranker,
        )
    if as_json:
        click.echo(json.dumps([p.as_dict() for p in passages], ensure_ascii=False))
        return
    table = Table("#", "document", "where", "fused", "dense (rank)", "lexical (rank)", "text")
    for rank, p in enumerate(passages, start=1):
        where = p.heading_path + (f" (p. {p.page})" if p.page else "")
        table.add_row(
            str(rank),
            p.document,
            where,
            f"{p.fused_score:.4f}",
            f"{p.dense_score:.3f} ({p.dense_rank or '-'})",
            f"{p.lexical_score:.3f} ({p.lexical_rank or '-'})",
            p.text[:80].replace("\n", " ") + ("…" if len(p.text) > 80 else ""),
        )
    Console().print(table)
