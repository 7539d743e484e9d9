"""Ingest files into a tenant's knowledge base: one transaction per file, unchanged files untouched."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from knowledge.chunking import chunk_markdown, document_title
from knowledge.embeddings import Embedder
from knowledge.errors import UnreadableDocumentError
from knowledge.models import Chunk, Document

SUPPORTED_SUFFIXES = {".md", ".markdown", ".txt", ".text"}


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


@dataclass(frozen=True)
class SourceFile:
    path: Path
    source: str
    """The name citations show: the path relative to the folder given, or the file's name."""


def collect_files(paths: Iterable[Path]) -> list[SourceFile]:
    """Files named directly, and the supported files inside folders (recursively)."""
    files: list[SourceFile] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                SourceFile(p, p.relative_to(path).as_posix())
                for p in sorted(path.rglob("*"))
                if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES
            )
        else:
            files.append(SourceFile(path, path.name))
    return files


def read_document(path: Path) -> str:
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise UnreadableDocumentError(f"unsupported file type {path.suffix or '(none)'}")
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError as exc:
        raise UnreadableDocumentError("file not found") from exc
    except PermissionError as exc:
        raise UnreadableDocumentError("permission denied") from exc
    except IsADirectoryError as exc:
        raise UnreadableDocumentError("is a directory") from exc
    except UnicodeDecodeError as exc:
        raise UnreadableDocumentError("not UTF-8 text") from exc
    if not text.strip():
        raise UnreadableDocumentError("empty file")
    return text


async def ingest_text(
    session: AsyncSession, embedder: Embedder, tenant_id: uuid.UUID, source: str, text: str
) -> IngestResult:
    """Store a document's chunks; the same content again is a no-op, new content replaces the old."""
    content_hash = hashlib.sha256(text.encode()).hexdigest()
    document = await session.scalar(
        select(Document).where(Document.tenant_id == tenant_id, Document.source == source).with_for_update()
    )
    if document is not None and document.content_hash == content_hash:
        return IngestResult(source, IngestStatus.UNCHANGED)

    pieces = chunk_markdown(text)
    if not pieces:
        raise UnreadableDocumentError("no text to index")
    title = document_title(text, Path(source).stem)
    vectors = await embedder.aencode([f"{title} › {p.heading_path}\n{p.text}" for p in pieces])

    status = IngestStatus.UPDATED
    if document is None:
        status = IngestStatus.ADDED
        document = Document(tenant_id=tenant_id, source=source, title=title, content_hash=content_hash)
        session.add(document)
        await session.flush()
    else:
        document.title, document.content_hash = title, content_hash
        await session.execute(delete(Chunk).where(Chunk.document_id == document.id))
    session.add_all(
        Chunk(
            tenant_id=tenant_id,
            document_id=document.id,
            position=position,
            heading_path=piece.heading_path,
            text=piece.text,
            embedding=vector.tolist(),
            embedding_model=embedder.model_name,
        )
        for position, (piece, vector) in enumerate(zip(pieces, vectors, strict=True))
    )
    await session.flush()
    return IngestResult(source, status, chunks=len(pieces))


async def ingest_files(
    sessionmaker: async_sessionmaker[AsyncSession],
    embedder: Embedder,
    tenant_id: uuid.UUID,
    files: list[SourceFile],
    on_progress: Callable[[IngestResult], None] | None = None,
) -> list[IngestResult]:
    """Ingest each file in its own transaction: a bad file is reported and the rest go on."""
    results = []
    for file in files:
        try:
            text = read_document(file.path)
            async with sessionmaker.begin() as session:
                result = await ingest_text(session, embedder, tenant_id, file.source, text)
        except UnreadableDocumentError as exc:
            result = IngestResult(file.source, IngestStatus.FAILED, error=exc.detail)
        results.append(result)
        if on_progress:
            on_progress(result)
    return results
