"""Collections and documents of a tenant: find, list, delete. Every query is scoped by tenant."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.tenancy import get_owned
from knowledge.errors import DocumentNotFoundError
from knowledge.models import DEFAULT_COLLECTION, Chunk, Collection, Document
from knowledge.stats import count_documents


async def get_or_create_collection(
    session: AsyncSession, tenant_id: uuid.UUID, name: str = DEFAULT_COLLECTION
) -> Collection:
    await session.execute(
        insert(Collection)
        .values(id=uuid.uuid4(), tenant_id=tenant_id, name=name)
        .on_conflict_do_nothing(constraint="uq_knowledge_collections_tenant_name")
    )
    collection = await session.scalar(
        select(Collection).where(Collection.tenant_id == tenant_id, Collection.name == name)
    )
    assert collection is not None
    return collection


async def find_collection(session: AsyncSession, tenant_id: uuid.UUID, name: str) -> Collection | None:
    return await session.scalar(
        select(Collection).where(Collection.tenant_id == tenant_id, Collection.name == name)
    )


async def list_documents(
    session: AsyncSession, tenant_id: uuid.UUID, collection: str | None = None
) -> list[tuple[Document, str, int]]:
    """Documents with their collection name and chunk count, newest first."""
    chunk_count = (
        select(func.count()).select_from(Chunk).where(Chunk.document_id == Document.id).scalar_subquery()
    )
    query = (
        select(Document, Collection.name, chunk_count)
        .join(Collection, Collection.id == Document.collection_id)
        .where(Document.tenant_id == tenant_id)
        .order_by(Document.updated_at.desc())
    )
    if collection:
        query = query.where(Collection.name == collection)
    rows = await session.execute(query)
    return [(document, name, int(count)) for document, name, count in rows.tuples()]


async def get_document(session: AsyncSession, tenant_id: uuid.UUID, document_id: uuid.UUID) -> Document:
    missing = DocumentNotFoundError(f"document {document_id} not found")
    return await get_owned(session, Document, tenant_id, document_id, missing)


async def document_chunks(session: AsyncSession, tenant_id: uuid.UUID, document_id: uuid.UUID) -> list[Chunk]:
    return list(
        await session.scalars(
            select(Chunk)
            .where(Chunk.tenant_id == tenant_id, Chunk.document_id == document_id)
            .order_by(Chunk.position)
        )
    )


async def delete_documents(
    session: AsyncSession, tenant_id: uuid.UUID, sources: list[str], collection: str | None = None
) -> list[str]:
    """Delete documents (and, by cascade, their chunks) by source name; returns what was deleted."""
    query = select(Document).where(Document.tenant_id == tenant_id, Document.source.in_(sources))
    if collection:
        found = await find_collection(session, tenant_id, collection)
        if found is None:
            return []
        query = query.where(Document.collection_id == found.id)
    documents = list(await session.scalars(query.with_for_update()))
    await count_documents(session, tenant_id, [d.id for d in documents], -1)
    if documents:
        await session.execute(delete(Document).where(Document.id.in_([d.id for d in documents])))
    return [d.source for d in documents]
