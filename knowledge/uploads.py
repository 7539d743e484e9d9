"""Uploads from the web: checked and queued at once, parsed and embedded by a background job."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path, PurePath

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from knowledge.embeddings import Embedder
from knowledge.errors import UnreadableDocumentError
from knowledge.ingest import IncomingDocument, IngestStatus, content_hash, ingest_documents
from knowledge.models import Collection, Document, DocumentStatus
from knowledge.parsing import SUPPORTED_SUFFIXES
from knowledge.service import get_or_create_collection


@dataclass(frozen=True)
class UploadOutcome:
    source: str
    status: str
    """queued, unchanged or failed."""
    document_id: str | None = None
    error: str | None = None


def check_upload(name: str, data: bytes, max_bytes: int) -> None:
    """What can be refused before any work: type, emptiness, size."""
    suffix = PurePath(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnreadableDocumentError(f"unsupported file type {suffix or '(none)'}")
    if not data:
        raise UnreadableDocumentError("empty file")
    if len(data) > max_bytes:
        raise UnreadableDocumentError(
            f"file is {len(data) / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB limit"
        )


async def accept_upload(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    collection: str,
    name: str,
    data: bytes,
    uploads_dir: Path,
    max_bytes: int,
) -> UploadOutcome:
    """Store the file and mark its document queued; an unchanged file needs no job."""
    source = PurePath(name).name
    try:
        check_upload(source, data, max_bytes)
    except UnreadableDocumentError as exc:
        return UploadOutcome(source, IngestStatus.FAILED, error=exc.detail)
    found = await get_or_create_collection(session, tenant_id, collection)
    document = await session.scalar(
        select(Document)
        .where(Document.tenant_id == tenant_id, Document.collection_id == found.id, Document.source == source)
        .with_for_update()
    )
    digest = content_hash(data)
    if (
        document is not None
        and document.content_hash == digest
        and document.status == DocumentStatus.EMBEDDED
    ):
        return UploadOutcome(source, IngestStatus.UNCHANGED, document_id=str(document.id))
    if document is None:
        # No hash yet: the job must not take the new document for an unchanged one.
        document = Document(
            tenant_id=tenant_id,
            collection_id=found.id,
            source=source,
            title=PurePath(source).stem,
            content_hash="",
        )
        session.add(document)
    document.status, document.error, document.size_bytes = DocumentStatus.QUEUED, None, len(data)
    await session.flush()
    path = uploads_dir / str(tenant_id) / f"{document.id}{PurePath(source).suffix.lower()}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return UploadOutcome(source, DocumentStatus.QUEUED, document_id=str(document.id))


async def process_upload(
    sessionmaker: async_sessionmaker[AsyncSession],
    embedder: Embedder,
    tenant_id: uuid.UUID,
    document_id: uuid.UUID,
    uploads_dir: Path,
) -> str:
    """The job: parse and embed a queued upload; a failure is recorded on the document with its reason."""
    async with sessionmaker.begin() as session:
        document = await session.get(Document, document_id)
        if document is None or document.tenant_id != tenant_id or document.status != DocumentStatus.QUEUED:
            return "skipped"
        document.status = DocumentStatus.PARSING
        collection = (await session.get_one(Collection, document.collection_id)).name
        source = document.source
    path = uploads_dir / str(tenant_id) / f"{document_id}{PurePath(source).suffix.lower()}"
    [result] = await ingest_documents(
        sessionmaker, embedder, tenant_id, [IncomingDocument(source, path.read_bytes())], collection
    )
    if result.status == IngestStatus.FAILED:
        async with sessionmaker.begin() as session:
            document = await session.get_one(Document, document_id)
            document.status, document.error = DocumentStatus.FAILED, result.error
    path.unlink(missing_ok=True)
    return str(result.status)


async def give_up_upload(
    sessionmaker: async_sessionmaker[AsyncSession], tenant_id: uuid.UUID, document_id: uuid.UUID, error: str
) -> None:
    """The ingest job failed for good (not a file it could not read: a crash): the document shows it
    failed, with why, instead of staying ``parsing``; its file is kept for a replay."""
    await _move_upload(
        sessionmaker,
        tenant_id,
        document_id,
        (DocumentStatus.QUEUED, DocumentStatus.PARSING),
        DocumentStatus.FAILED,
        error,
    )


async def requeue_upload(
    sessionmaker: async_sessionmaker[AsyncSession], tenant_id: uuid.UUID, document_id: uuid.UUID
) -> None:
    """An admin replays the ingest given up on: the document is queued again for its job."""
    await _move_upload(
        sessionmaker,
        tenant_id,
        document_id,
        (DocumentStatus.PARSING, DocumentStatus.FAILED),
        DocumentStatus.QUEUED,
        None,
    )


async def _move_upload(
    sessionmaker: async_sessionmaker[AsyncSession],
    tenant_id: uuid.UUID,
    document_id: uuid.UUID,
    from_statuses: tuple[str, ...],
    to_status: str,
    error: str | None,
) -> None:
    """The tenant's document to ``to_status``, if it is in one of ``from_statuses`` (else left alone)."""
    async with sessionmaker.begin() as session:
        await session.execute(
            update(Document)
            .where(
                Document.id == document_id,
                Document.tenant_id == tenant_id,
                Document.status.in_(from_statuses),
            )
            .values(status=to_status, error=error)
        )
