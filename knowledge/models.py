"""Collections, documents and their chunks: a pgvector embedding (HNSW) and a language-aware full-text column."""

from __future__ import annotations

import uuid
from enum import StrEnum

from pgvector.sqlalchemy import Vector
from sqlalchemy import Computed, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import REGCONFIG, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from core.tenancy import TenantOwned

EMBEDDING_DIMENSIONS = 384
"""Vector size the first migration creates (the default model's); ``atende kb reindex`` changes it."""

DEFAULT_COLLECTION = "default"


class DocumentStatus(StrEnum):
    QUEUED = "queued"
    PARSING = "parsing"
    EMBEDDED = "embedded"
    FAILED = "failed"


class Collection(TenantOwned):
    __tablename__ = "knowledge_collections"
    __table_args__ = (UniqueConstraint("tenant_id", "name", name="uq_knowledge_collections_tenant_name"),)

    name: Mapped[str] = mapped_column(String(100))


class Document(TenantOwned):
    __tablename__ = "knowledge_documents"
    __table_args__ = (
        UniqueConstraint(
            "tenant_id", "collection_id", "source", name="uq_knowledge_documents_collection_source"
        ),
        Index(
            "ix_knowledge_documents_in_progress",
            "updated_at",
            postgresql_where=text("status IN ('queued', 'parsing')"),
        ),
    )

    collection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("knowledge_collections.id", ondelete="CASCADE"), index=True
    )
    source: Mapped[str] = mapped_column(String(500))
    """The file name (relative to the folder ingested) or URL citations show."""
    title: Mapped[str] = mapped_column(String(500))
    content_hash: Mapped[str] = mapped_column(String(64))
    format: Mapped[str] = mapped_column(String(16), default="markdown")
    language: Mapped[str] = mapped_column(String(8), default="und")
    size_bytes: Mapped[int] = mapped_column(default=0)
    page_count: Mapped[int | None]
    status: Mapped[str] = mapped_column(String(16), default=DocumentStatus.EMBEDDED)
    error: Mapped[str | None] = mapped_column(Text)
    ingest_tries: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    """Workers that took this upload's ingest since it was queued (see ``knowledge.uploads``)."""


class Chunk(TenantOwned):
    __tablename__ = "knowledge_chunks"
    __table_args__ = (
        Index(
            "ix_knowledge_chunks_embedding",
            "embedding",
            postgresql_using="hnsw",
            postgresql_ops={"embedding": "vector_cosine_ops"},
        ),
        Index("ix_knowledge_chunks_search", "search_vector", postgresql_using="gin"),
        Index("ix_knowledge_chunks_tenant_collection", "tenant_id", "collection_id"),
    )

    collection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("knowledge_collections.id", ondelete="CASCADE")
    )
    document_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("knowledge_documents.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    heading_path: Mapped[str] = mapped_column(Text, default="")
    page: Mapped[int | None]
    text: Mapped[str] = mapped_column(Text)
    embedding: Mapped[list[float]] = mapped_column(Vector(EMBEDDING_DIMENSIONS))
    embedding_model: Mapped[str] = mapped_column(String(200))
    search_text: Mapped[str] = mapped_column(Text, default="")
    """Title, headings and text without accents: what full-text search indexes."""
    fts_config: Mapped[str] = mapped_column(REGCONFIG, default="simple")
    search_vector: Mapped[str] = mapped_column(
        TSVECTOR,
        Computed(
            "to_tsvector(fts_config, search_text) || to_tsvector('simple'::regconfig, search_text)",
            persisted=True,
        ),
    )
