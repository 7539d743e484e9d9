"""Queues get members, business hours, a routing rule and a limit per agent; agents get a presence.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("queues", sa.Column("color", sa.String(length=7), nullable=False, server_default="#4f6bed"))
    op.add_column("queues", sa.Column("greeting", sa.Text(), nullable=False, server_default=""))
    op.add_column(
        "queues", sa.Column("business_hours", postgresql.JSONB(astext_type=sa.Text()), nullable=True)
    )
    op.add_column(
        "queues", sa.Column("routing", sa.String(length=16), nullable=False, server_default="round_robin")
    )
    op.add_column("queues", sa.Column("max_open_per_agent", sa.Integer(), nullable=False, server_default="5"))
    op.add_column("queues", sa.Column("last_assigned_user_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        op.f("fk_queues_last_assigned_user_id_users"),
        "queues",
        "users",
        ["last_assigned_user_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_table(
        "queue_members",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("queue_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_queue_members_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["queue_id"], ["queues.id"], name=op.f("fk_queue_members_queue_id_queues"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_queue_members_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_members")),
        sa.UniqueConstraint("queue_id", "user_id", name="uq_queue_members_queue_user"),
    )
    op.create_index(op.f("ix_queue_members_tenant_id"), "queue_members", ["tenant_id"])
    op.create_index(op.f("ix_queue_members_user_id"), "queue_members", ["user_id"])
    op.add_column(
        "users", sa.Column("presence", sa.String(length=16), nullable=False, server_default="offline")
    )
    op.create_index(
        "ix_tickets_open_assignee",
        "tickets",
        ["assignee_id"],
        postgresql_where=sa.text("status = 'open'"),
    )


def downgrade() -> None:
    op.drop_index("ix_tickets_open_assignee", table_name="tickets")
    op.drop_column("users", "presence")
    op.drop_table("queue_members")
    op.drop_constraint(op.f("fk_queues_last_assigned_user_id_users"), "queues", type_="foreignkey")
    for column in (
        "last_assigned_user_id",
        "max_open_per_agent",
        "routing",
        "business_hours",
        "greeting",
        "color",
    ):
        op.drop_column("queues", column)
