"""Dead letters for the broker's jobs (core/dead_letters.py): turns and ingests given up on after their
last try, and jobs whose payload could not be read, for an admin to list and replay.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dead_letters",
        sa.Column("id", sa.Uuid(), nullable=False),
        # None when the payload could not be read: only the operator's `atende jobs failed` lists it.
        sa.Column("tenant_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("task_name", sa.String(length=100), nullable=False),
        sa.Column("ref_id", sa.Uuid(), nullable=True),
        sa.Column("args", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_dead_letters_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dead_letters")),
        # One letter per task and thing: a job given up on again updates it.
        sa.UniqueConstraint("task_name", "ref_id", name="uq_dead_letters_task_name_ref_id"),
    )
    op.create_index(op.f("ix_dead_letters_tenant_id"), "dead_letters", ["tenant_id"], unique=False)
    # `atende jobs failed` and the admin's page: the latest first.
    op.create_index("ix_dead_letters_updated_at", "dead_letters", ["updated_at"], unique=False)
    # The sweep looks for letters an admin asked to replay.
    op.create_index(
        "ix_dead_letters_replay",
        "dead_letters",
        ["created_at"],
        postgresql_where=sa.text("status = 'replay'"),
    )


def downgrade() -> None:
    op.drop_table("dead_letters")
