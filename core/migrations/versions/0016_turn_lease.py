"""Who runs a conversation's turns: a lease with a fencing token (see conversations.turn_lease); the
customer messages no turn has handled yet, indexed for the periodic sweep.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("conversations", sa.Column("turn_token", sa.Uuid(), nullable=True))
    op.add_column("conversations", sa.Column("turn_until", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_messages_unanswered",
        "messages",
        ["created_at"],
        postgresql_where=sa.text("processed = false AND direction = 'inbound'"),
    )


def downgrade() -> None:
    op.drop_index("ix_messages_unanswered", table_name="messages")
    op.drop_column("conversations", "turn_until")
    op.drop_column("conversations", "turn_token")
