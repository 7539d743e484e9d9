"""Customer satisfaction: asked when a ticket closes, the 1-5 answer kept with the ticket.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tickets", sa.Column("csat_asked_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("tickets", sa.Column("csat_rating", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("tickets", "csat_rating")
    op.drop_column("tickets", "csat_asked_at")
