"""Knowledge collections, document status and metadata, language-aware full text, pages.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "knowledge_collections",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_knowledge_collections_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_collections")),
        sa.UniqueConstraint("tenant_id", "name", name="uq_knowledge_collections_tenant_name"),
    )
    op.create_index(op.f("ix_knowledge_collections_tenant_id"), "knowledge_collections", ["tenant_id"])
    # Every tenant that already has documents gets its default collection.
    op.execute(
        """
        INSERT INTO knowledge_collections (id, tenant_id, name, created_at, updated_at)
        SELECT gen_random_uuid(), tenant_id, 'default', now(), now()
        FROM knowledge_documents GROUP BY tenant_id
        """
    )

    op.add_column("knowledge_documents", sa.Column("collection_id", sa.Uuid(), nullable=True))
    op.execute(
        """
        UPDATE knowledge_documents d SET collection_id = c.id
        FROM knowledge_collections c WHERE c.tenant_id = d.tenant_id AND c.name = 'default'
        """
    )
    op.alter_column("knowledge_documents", "collection_id", nullable=False)
    op.create_foreign_key(
        op.f("fk_knowledge_documents_collection_id_knowledge_collections"),
        "knowledge_documents",
        "knowledge_collections",
        ["collection_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.create_index(op.f("ix_knowledge_documents_collection_id"), "knowledge_documents", ["collection_id"])
    op.drop_constraint("uq_knowledge_documents_tenant_source", "knowledge_documents", type_="unique")
    op.create_unique_constraint(
        "uq_knowledge_documents_collection_source",
        "knowledge_documents",
        ["tenant_id", "collection_id", "source"],
    )
    for column in (
        sa.Column("format", sa.String(length=16), nullable=False, server_default="markdown"),
        sa.Column("language", sa.String(length=8), nullable=False, server_default="und"),
        sa.Column("size_bytes", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("page_count", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False, server_default="embedded"),
        sa.Column("error", sa.Text(), nullable=True),
    ):
        op.add_column("knowledge_documents", column)

    op.add_column("knowledge_chunks", sa.Column("collection_id", sa.Uuid(), nullable=True))
    op.execute(
        """
        UPDATE knowledge_chunks c SET collection_id = d.collection_id
        FROM knowledge_documents d WHERE d.id = c.document_id
        """
    )
    op.alter_column("knowledge_chunks", "collection_id", nullable=False)
    op.create_foreign_key(
        op.f("fk_knowledge_chunks_collection_id_knowledge_collections"),
        "knowledge_chunks",
        "knowledge_collections",
        ["collection_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.create_index(
        "ix_knowledge_chunks_tenant_collection", "knowledge_chunks", ["tenant_id", "collection_id"]
    )
    op.add_column("knowledge_chunks", sa.Column("page", sa.Integer(), nullable=True))
    op.add_column("knowledge_chunks", sa.Column("search_text", sa.Text(), nullable=False, server_default=""))
    op.execute("UPDATE knowledge_chunks SET search_text = coalesce(heading_path, '') || ' ' || text")
    op.add_column(
        "knowledge_chunks",
        sa.Column(
            "fts_config",
            postgresql.REGCONFIG(),
            nullable=False,
            server_default=sa.text("'simple'::regconfig"),
        ),
    )
    op.drop_index("ix_knowledge_chunks_search", table_name="knowledge_chunks")
    op.drop_column("knowledge_chunks", "search_vector")
    op.add_column(
        "knowledge_chunks",
        sa.Column(
            "search_vector",
            postgresql.TSVECTOR(),
            sa.Computed(
                "to_tsvector(fts_config, search_text) || to_tsvector('simple'::regconfig, search_text)",
                persisted=True,
            ),
            nullable=False,
        ),
    )
    op.create_index(
        "ix_knowledge_chunks_search", "knowledge_chunks", ["search_vector"], postgresql_using="gin"
    )

    # Term and corpus statistics per tenant, kept by the ingest, for BM25 scoring of full-text matches.
    op.create_table(
        "knowledge_term_stats",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("term", sa.Text(), nullable=False),
        sa.Column("df", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_knowledge_term_stats_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "term", name=op.f("pk_knowledge_term_stats")),
    )
    op.create_table(
        "knowledge_corpus_stats",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("chunks", sa.Integer(), nullable=False),
        sa.Column("total_length", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_knowledge_corpus_stats_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_knowledge_corpus_stats")),
    )
    op.execute(
        """
        INSERT INTO knowledge_term_stats (tenant_id, term, df)
        SELECT c.tenant_id, lexeme, count(*)
        FROM knowledge_chunks c, unnest(tsvector_to_array(c.search_vector)) lexeme
        GROUP BY c.tenant_id, lexeme
        """
    )
    op.execute(
        """
        INSERT INTO knowledge_corpus_stats (tenant_id, chunks, total_length)
        SELECT tenant_id, count(*), sum(length(search_vector)) FROM knowledge_chunks GROUP BY tenant_id
        """
    )


def downgrade() -> None:
    """Back to one flat knowledge base per tenant (documents of other collections are dropped)."""
    op.drop_table("knowledge_corpus_stats")
    op.drop_table("knowledge_term_stats")
    op.execute(
        """
        DELETE FROM knowledge_documents d USING knowledge_collections c
        WHERE c.id = d.collection_id AND c.name <> 'default'
        """
    )
    op.drop_index("ix_knowledge_chunks_search", table_name="knowledge_chunks")
    op.drop_column("knowledge_chunks", "search_vector")
    for column in ("fts_config", "search_text", "page"):
        op.drop_column("knowledge_chunks", column)
    op.drop_index("ix_knowledge_chunks_tenant_collection", table_name="knowledge_chunks")
    op.drop_column("knowledge_chunks", "collection_id")
    op.add_column(
        "knowledge_chunks",
        sa.Column(
            "search_vector",
            postgresql.TSVECTOR(),
            sa.Computed("to_tsvector('simple', coalesce(heading_path, '') || ' ' || text)", persisted=True),
            nullable=False,
        ),
    )
    op.create_index(
        "ix_knowledge_chunks_search", "knowledge_chunks", ["search_vector"], postgresql_using="gin"
    )
    for column in ("error", "status", "page_count", "size_bytes", "language", "format"):
        op.drop_column("knowledge_documents", column)
    op.drop_constraint("uq_knowledge_documents_collection_source", "knowledge_documents", type_="unique")
    op.create_unique_constraint(
        "uq_knowledge_documents_tenant_source", "knowledge_documents", ["tenant_id", "source"]
    )
    op.drop_index(op.f("ix_knowledge_documents_collection_id"), table_name="knowledge_documents")
    op.drop_column("knowledge_documents", "collection_id")
    op.drop_table("knowledge_collections")
