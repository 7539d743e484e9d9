"""An upload's ingest tries (knowledge/uploads.py): the sweep hands a queued upload nobody took to a
worker again, and one left ``parsing`` by a dead worker, until its tries run out; the uploads in
progress are indexed for it.

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "knowledge_documents",
        sa.Column("ingest_tries", sa.Integer(), nullable=False, server_default=sa.text("0")),
    )
    op.create_index(
        "ix_knowledge_documents_in_progress",
        "knowledge_documents",
        ["updated_at"],
        postgresql_where=sa.text("status IN ('queued', 'parsing')"),
    )


def downgrade() -> None:
    op.drop_index("ix_knowledge_documents_in_progress", table_name="knowledge_documents")
    op.drop_column("knowledge_documents", "ingest_tries")
