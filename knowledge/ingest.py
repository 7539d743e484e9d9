"""Ingest documents into a tenant's knowledge base.

Unchanged files (same bytes) are skipped before parsing; each file is parsed in a child process held
to the parse limits (``knowledge.parse_apart``); a file that cannot be parsed, whatever the
reason, is reported before anything of it is written and the others go on; parsed documents are
written batch by batch in one transaction each, so no half document is ever stored; chunks of many
documents are embedded together in large batches while the previous batch is written, so ingest runs
near the model's own speed.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import structlog
from numpy.typing import NDArray
from sqlalchemy import delete, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.settings import DEFAULT_MAX_UPLOAD_MB, ParseLimits
from knowledge.chunking import TextChunk, chunk_blocks, document_title, embedding_text
from knowledge.embeddings import Embedder
from knowledge.errors import UnreadableDocumentError
from knowledge.file_names import clean_source
from knowledge.language import detect_language, fts_config
from knowledge.models import Chunk, Document, DocumentStatus
from knowledge.parse_apart import parse_apart
from knowledge.parsing import SUPPORTED_SUFFIXES
from knowledge.service import get_or_create_collection
from knowledge.stats import count_documents
from knowledge.text import strip_accents

log = structlog.get_logger(__name__)

DEFAULT_MAX_FILE_BYTES = DEFAULT_MAX_UPLOAD_MB * 1024 * 1024
ANALYZE_AFTER_CHUNKS = 200
EMBED_BATCH = 256
"""Chunks embedded per model call: large batches keep the CPU busy."""


class IngestStatus(StrEnum):
    ADDED = "added"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    FAILED = "failed"


@dataclass(frozen=True)
class IngestResult:
    source: str
    status: IngestStatus
    chunks: int = 0
    error: str | None = None
    document_id: str | None = None


@dataclass(frozen=True)
class SourceFile:
    path: Path
    source: str
    """The name citations show: the path relative to the folder given, or the file's name."""


@dataclass(frozen=True)
class IncomingDocument:
    """A document's bytes and the name it will be known by."""

    source: str
    data: bytes


@dataclass
class _Prepared:
    incoming: IncomingDocument
    content_hash: str
    title: str = ""
    format: str = ""
    language: str = "und"
    page_count: int | None = None
    chunks: list[TextChunk] = field(default_factory=list)


def collect_files(paths: Iterable[Path]) -> list[SourceFile]:
    """Files named directly, and the supported files inside folders (recursively)."""
    files: list[SourceFile] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                SourceFile(p, clean_source(p.relative_to(path).as_posix(), keep_folders=True))
                for p in sorted(path.rglob("*"))
                if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES
            )
        else:
            files.append(SourceFile(path, clean_source(path.name)))
    return files


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_file(file: SourceFile, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> IncomingDocument:
    try:
        size = file.path.stat().st_size
        if size > max_bytes:
            raise UnreadableDocumentError(
                f"file is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB limit"
            )
        return IncomingDocument(file.source, file.path.read_bytes())
    except FileNotFoundError as exc:
        raise UnreadableDocumentError("file not found") from exc
    except PermissionError as exc:
        raise UnreadableDocumentError("permission denied") from exc
    except IsADirectoryError as exc:
        raise UnreadableDocumentError("is a directory") from exc


async def _prepare(prepared: _Prepared, embedder: Embedder, limits: ParseLimits) -> None:
    """Parse (in a child process) and chunk (on a thread: the tokenizer is the model's), within the limits."""
    parsed = await parse_apart(prepared.incoming.source, prepared.incoming.data, limits)
    prepared.title = parsed.title or document_title(parsed.blocks, Path(prepared.incoming.source).stem)
    prepared.format = parsed.format
    prepared.page_count = parsed.page_count
    prepared.language = detect_language(parsed.text[:5000], default="und")
    prepared.chunks = await asyncio.to_thread(
        chunk_blocks, parsed.blocks, embedder.count_tokens, embedder.max_tokens - 40, limits.chunks
    )
    if not prepared.chunks:
        raise UnreadableDocumentError("no text to index")


async def _write_batch(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    collection_id: uuid.UUID,
    batch: list[_Prepared],
    vectors: NDArray[np.float32],
    model_name: str,
) -> list[IngestResult]:
    """Write a batch of parsed and embedded documents in one transaction, in a handful of statements."""
    found = {
        d.source: d
        for d in await session.scalars(
            select(Document)
            .where(
                Document.tenant_id == tenant_id,
                Document.collection_id == collection_id,
                Document.source.in_([p.incoming.source for p in batch]),
            )
            .with_for_update()
        )
    }
    replaced = [d.id for d in found.values()]
    await count_documents(session, tenant_id, replaced, -1)
    if replaced:
        await session.execute(delete(Chunk).where(Chunk.document_id.in_(replaced)))
    documents = []
    for prepared in batch:
        values: dict[str, Any] = {
            "title": prepared.title[:500],
            "content_hash": prepared.content_hash,
            "format": prepared.format,
            "language": prepared.language,
            "size_bytes": len(prepared.incoming.data),
            "page_count": prepared.page_count,
            "status": DocumentStatus.EMBEDDED,
            "error": None,
        }
        document = found.get(prepared.incoming.source)
        if document is None:
            document = Document(
                tenant_id=tenant_id, collection_id=collection_id, source=prepared.incoming.source, **values
            )
            session.add(document)
        else:
            for key, value in values.items():
                setattr(document, key, value)
        documents.append(document)
    await session.flush()

    rows: list[dict[str, Any]] = []
    offset = 0
    for prepared, document in zip(batch, documents, strict=True):
        config = fts_config(prepared.language)
        for position, chunk in enumerate(prepared.chunks):
            rows.append(
                {
                    "id": uuid.uuid4(),
                    "tenant_id": tenant_id,
                    "collection_id": collection_id,
                    "document_id": document.id,
                    "position": position,
                    "heading_path": chunk.heading_path,
                    "page": chunk.page,
                    "text": chunk.text,
                    "embedding": vectors[offset + position],
                    "embedding_model": model_name,
                    "search_text": strip_accents(f"{prepared.title} {chunk.heading_path} {chunk.text}"),
                    "fts_config": config,
                }
            )
        offset += len(prepared.chunks)
    await session.execute(insert(Chunk), rows)
    await count_documents(session, tenant_id, [d.id for d in documents], +1)
    return [
        IngestResult(
            p.incoming.source,
            IngestStatus.UPDATED if p.incoming.source in found else IngestStatus.ADDED,
            chunks=len(p.chunks),
            document_id=str(d.id),
        )
        for p, d in zip(batch, documents, strict=True)
    ]


async def ingest_documents(
    sessionmaker: async_sessionmaker[AsyncSession],
    embedder: Embedder,
    tenant_id: uuid.UUID,
    documents: list[IncomingDocument | UnreadableDocumentError | tuple[str, UnreadableDocumentError]],
    collection: str = "default",
    on_progress: Callable[[IngestResult], None] | None = None,
    limits: ParseLimits = ParseLimits(),
) -> list[IngestResult]:
    """Ingest many documents; a failure is reported per document and the rest go on."""
    results: list[IngestResult] = []

    def report(result: IngestResult) -> None:
        results.append(result)
        if on_progress:
            on_progress(result)

    async with sessionmaker.begin() as session:
        collection_id = (await get_or_create_collection(session, tenant_id, collection)).id
        rows = await session.execute(
            select(Document.source, Document.content_hash).where(
                Document.tenant_id == tenant_id, Document.collection_id == collection_id
            )
        )
        existing = dict(rows.tuples().all())

    to_embed: list[_Prepared] = []
    for item in documents:
        if isinstance(item, tuple):
            report(IngestResult(item[0], IngestStatus.FAILED, error=item[1].detail))
            continue
        assert isinstance(item, IncomingDocument)
        prepared = _Prepared(item, content_hash(item.data))
        if existing.get(item.source) == prepared.content_hash:
            report(IngestResult(item.source, IngestStatus.UNCHANGED))
            continue
        try:
            await _prepare(prepared, embedder, limits)
        except UnreadableDocumentError as exc:
            report(IngestResult(item.source, IngestStatus.FAILED, error=exc.detail))
            continue
        except Exception as exc:  # a fault past the parser (chunking): this file fails, the others go on
            log.exception("ingest.prepare_failed", source_suffix=Path(item.source).suffix)
            report(
                IngestResult(
                    item.source, IngestStatus.FAILED, error=f"could not be chunked ({type(exc).__name__})"
                )
            )
            continue
        to_embed.append(prepared)

    async def write_batch(batch: list[_Prepared], vectors: NDArray[np.float32]) -> None:
        async with sessionmaker.begin() as session:
            written = await _write_batch(
                session, tenant_id, collection_id, batch, vectors, embedder.model_name
            )
        for result in written:
            report(result)

    pending: tuple[list[_Prepared], NDArray[np.float32]] | None = None
    for batch in _batches(to_embed, EMBED_BATCH):
        texts = [embedding_text(p.title, c.heading_path, c.text) for p in batch for c in p.chunks]
        encoding = asyncio.create_task(embedder.aencode(texts))
        if pending:
            await write_batch(*pending)  # written while the next batch is being embedded
        pending = (batch, await encoding)
    if pending:
        await write_batch(*pending)
    if sum(len(p.chunks) for p in to_embed) >= ANALYZE_AFTER_CHUNKS:
        # Fresh statistics keep the planner on the indexes right away, before autovacuum gets to it.
        async with sessionmaker.begin() as session:
            await session.execute(text("ANALYZE knowledge_chunks, knowledge_documents, knowledge_term_stats"))
    return results


def _batches(prepared: list[_Prepared], max_chunks: int) -> Iterable[list[_Prepared]]:
    batch: list[_Prepared] = []
    size = 0
    for item in prepared:
        if batch and size + len(item.chunks) > max_chunks:
            yield batch
            batch, size = [], 0
        batch.append(item)
        size += len(item.chunks)
    if batch:
        yield batch


async def ingest_files(
    sessionmaker: async_sessionmaker[AsyncSession],
    embedder: Embedder,
    tenant_id: uuid.UUID,
    files: list[SourceFile],
    on_progress: Callable[[IngestResult], None] | None = None,
    collection: str = "default",
    max_bytes: int = DEFAULT_MAX_FILE_BYTES,
    limits: ParseLimits = ParseLimits(),
) -> list[IngestResult]:
    """Read files from disk and ingest them; unreadable files are reported by name and skipped."""
    documents: list[IncomingDocument | UnreadableDocumentError | tuple[str, UnreadableDocumentError]] = []
    for file in files:
        try:
            documents.append(read_file(file, max_bytes))
        except UnreadableDocumentError as exc:
            documents.append((file.source, exc))
    return await ingest_documents(
        sessionmaker, embedder, tenant_id, documents, collection, on_progress, limits
    )
