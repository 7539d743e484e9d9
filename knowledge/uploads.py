"""Uploads from the web: checked and queued at once, parsed and embedded by a background job.

An upload moves ``queued`` ─► ``parsing`` (a worker took it: one more of its ``ingest_tries``) ─►
``embedded`` or ``failed``. The sweep hands a ``queued`` upload nobody took (its job was never
enqueued: Redis was away) to a worker again, and one left ``parsing`` (its worker died) too, until
``INGEST_TRIES`` workers took it; then it is given up on (``give_up_upload``).
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePath

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.private_files import write_private
from core.settings import ParseLimits
from knowledge.embeddings import Embedder
from knowledge.errors import UnreadableDocumentError
from knowledge.file_names import clean_source
from knowledge.ingest import IncomingDocument, IngestStatus, content_hash, ingest_documents
from knowledge.models import Collection, Document, DocumentStatus
from knowledge.parsing import SUPPORTED_SUFFIXES
from knowledge.service import get_or_create_collection

INGEST_TRIES = 3
"""Workers that may take an upload's ingest before one that never finished makes it failed."""


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
    source = clean_source(name)
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
    document.ingest_tries = 0
    await session.flush()
    path = uploads_dir / str(tenant_id) / f"{document.id}{PurePath(source).suffix.lower()}"
    write_private(path, data)
    return UploadOutcome(source, DocumentStatus.QUEUED, document_id=str(document.id))


async def process_upload(
    sessionmaker: async_sessionmaker[AsyncSession],
    embedder: Embedder,
    tenant_id: uuid.UUID,
    document_id: uuid.UUID,
    uploads_dir: Path,
    limits: ParseLimits = ParseLimits(),
) -> str:
    """The job: parse and embed a queued upload; a failure is recorded on the document with its reason.
    Taking it (``queued`` to ``parsing``) is one statement, so of two jobs for one upload one runs."""
    async with sessionmaker.begin() as session:
        taken = await session.execute(
            update(Document)
            .where(
                Document.id == document_id,
                Document.tenant_id == tenant_id,
                Document.status == DocumentStatus.QUEUED,
            )
            .values(status=DocumentStatus.PARSING, ingest_tries=Document.ingest_tries + 1)
            .returning(Document.collection_id, Document.source)
        )
        row = taken.one_or_none()
        if row is None:
            return "skipped"
        collection_id, source = row
        collection = (await session.get_one(Collection, collection_id)).name
    path = uploads_dir / str(tenant_id) / f"{document_id}{PurePath(source).suffix.lower()}"
    [result] = await ingest_documents(
        sessionmaker,
        embedder,
        tenant_id,
        [IncomingDocument(source, path.read_bytes())],
        collection,
        limits=limits,
    )
    if result.status == IngestStatus.FAILED:
        await _move_upload(
            sessionmaker,
            tenant_id,
            document_id,
            (DocumentStatus.PARSING,),
            DocumentStatus.FAILED,
            result.error,
        )
    elif result.status == IngestStatus.UNCHANGED:  # its chunks are those of this very file already
        await _move_upload(
            sessionmaker, tenant_id, document_id, (DocumentStatus.PARSING,), DocumentStatus.EMBEDDED, None
        )
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
    """An admin replays the ingest given up on: the document is queued again for its job, with its
    tries counted afresh."""
    await _move_upload(
        sessionmaker,
        tenant_id,
        document_id,
        (DocumentStatus.PARSING, DocumentStatus.FAILED),
        DocumentStatus.QUEUED,
        None,
        tries_afresh=True,
    )


@dataclass(frozen=True)
class UploadToSweep:
    tenant_id: uuid.UUID
    document_id: uuid.UUID
    tries: int


async def forgotten_uploads(
    sessionmaker: async_sessionmaker[AsyncSession], older_than: datetime.timedelta
) -> list[UploadToSweep]:
    """Uploads queued this long that no worker took (their job was never enqueued, or was lost), for
    the sweep to enqueue again; each is marked as just handed out, so one merely waiting in a long
    queue gets another job once per ``older_than``, not once per sweep. A system sweep, all tenants."""
    async with sessionmaker.begin() as session:
        rows = await session.execute(
            update(Document)
            .where(Document.status == DocumentStatus.QUEUED, Document.updated_at < func.now() - older_than)
            .values(updated_at=func.now())
            .returning(Document.tenant_id, Document.id, Document.ingest_tries)
        )
        return [UploadToSweep(*row) for row in rows.tuples()]


async def stalled_uploads(
    sessionmaker: async_sessionmaker[AsyncSession], older_than: datetime.timedelta
) -> tuple[list[UploadToSweep], list[UploadToSweep]]:
    """Uploads ``parsing`` this long, whose worker died: those with tries left are queued again (for
    the sweep to enqueue), the others returned to be given up on (``give_up_upload``). A system sweep."""
    stalled = (Document.status == DocumentStatus.PARSING, Document.updated_at < func.now() - older_than)
    async with sessionmaker.begin() as session:
        requeued = await session.execute(
            update(Document)
            .where(*stalled, Document.ingest_tries < INGEST_TRIES)
            .values(status=DocumentStatus.QUEUED, updated_at=func.now())
            .returning(Document.tenant_id, Document.id, Document.ingest_tries)
        )
        exhausted = await session.execute(
            select(Document.tenant_id, Document.id, Document.ingest_tries).where(
                *stalled, Document.ingest_tries >= INGEST_TRIES
            )
        )
        return (
            [UploadToSweep(*row) for row in requeued.tuples()],
            [UploadToSweep(*row) for row in exhausted.tuples()],
        )


async def _move_upload(
    sessionmaker: async_sessionmaker[AsyncSession],
    tenant_id: uuid.UUID,
    document_id: uuid.UUID,
    from_statuses: tuple[str, ...],
    to_status: str,
    error: str | None,
    *,
    tries_afresh: bool = False,
) -> None:
    """The tenant's document to ``to_status``, if it is in one of ``from_statuses`` (else left alone)."""
    values: dict[str, object] = {"status": to_status, "error": error}
    if tries_afresh:
        values["ingest_tries"] = 0
    async with sessionmaker.begin() as session:
        await session.execute(
            update(Document)
            .where(
                Document.id == document_id,
                Document.tenant_id == tenant_id,
                Document.status.in_(from_statuses),
            )
            .values(values)
        )
