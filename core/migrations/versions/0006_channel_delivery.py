"""Channels keep encrypted credentials; messages keep media and other content, and their delivery status.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("channels", sa.Column("credentials", sa.Text(), nullable=True))
    op.add_column(
        "messages",
        sa.Column(
            "content",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            server_default=sa.text("'{}'::jsonb"),
        ),
    )
    op.add_column("messages", sa.Column("delivery_status", sa.String(length=16), nullable=True))
    op.add_column("messages", sa.Column("delivery_error", sa.Text(), nullable=True))
    op.add_column("messages", sa.Column("delivered_as", sa.String(length=200), nullable=True))
    op.create_index("ix_messages_channel_delivered_as", "messages", ["channel_id", "delivered_as"])
    # The startup sweep looks for messages still waiting for their channel.
    op.create_index(
        "ix_messages_delivery_pending",
        "messages",
        ["created_at"],
        postgresql_where=sa.text("delivery_status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index("ix_messages_delivery_pending", table_name="messages")
    op.drop_index("ix_messages_channel_delivered_as", table_name="messages")
    op.drop_column("messages", "delivered_as")
    op.drop_column("messages", "delivery_error")
    op.drop_column("messages", "delivery_status")
    op.drop_column("messages", "content")
    op.drop_column("channels", "credentials")
