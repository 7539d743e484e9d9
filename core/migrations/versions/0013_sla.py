"""SLA: first-response and resolution targets per queue; when a person first answered a ticket.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("queues", sa.Column("first_response_minutes", sa.Integer(), nullable=True))
    op.add_column("queues", sa.Column("resolution_minutes", sa.Integer(), nullable=True))
    op.add_column("tickets", sa.Column("first_response_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("tickets", "first_response_at")
    op.drop_column("queues", "resolution_minutes")
    op.drop_column("queues", "first_response_minutes")
