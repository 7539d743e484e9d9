"""Contact profile: e-mail, phone and custom fields, which also link one person's contacts across channels.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("contacts", sa.Column("email", sa.String(320), nullable=True))
    op.add_column("contacts", sa.Column("phone", sa.String(32), nullable=True))
    op.add_column(
        "contacts", sa.Column("custom_fields", JSONB(), nullable=False, server_default=sa.text("'{}'::jsonb"))
    )
    op.create_index("ix_contacts_tenant_phone", "contacts", ["tenant_id", "phone"])
    op.create_index("ix_contacts_tenant_email", "contacts", ["tenant_id", "email"])
    # A WhatsApp contact's id on the channel is their phone number.
    op.execute(
        "UPDATE contacts SET phone = contacts.external_id FROM channels"
        " WHERE channels.id = contacts.channel_id AND channels.type LIKE 'whatsapp%'"
        " AND contacts.external_id ~ '^[0-9]{6,20}$'"
    )


def downgrade() -> None:
    op.drop_index("ix_contacts_tenant_email", "contacts")
    op.drop_index("ix_contacts_tenant_phone", "contacts")
    op.drop_column("contacts", "custom_fields")
    op.drop_column("contacts", "phone")
    op.drop_column("contacts", "email")
