"""One transactional outbox for outbound messages and webhook events (core/outbox.py).

Messages still pending or failed and webhook deliveries still pending or failed get their job here
(failed ones dead, with their error, so the inbox's resend and the webhook redeliver keep working);
the two partial indexes the old start-up sweeps read are dropped.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ref_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column(
            "next_attempt_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_outbox_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        # One job per thing to send: enqueueing it again creates nothing.
        sa.UniqueConstraint("kind", "ref_id", name="uq_outbox_kind_ref_id"),
    )
    op.create_index(op.f("ix_outbox_tenant_id"), "outbox", ["tenant_id"], unique=False)
    # Workers and the sweep look for due pending jobs, and for leases run out.
    op.create_index(
        "ix_outbox_due", "outbox", ["next_attempt_at"], postgresql_where=sa.text("status = 'pending'")
    )
    op.create_index(
        "ix_outbox_leased", "outbox", ["claimed_until"], postgresql_where=sa.text("status = 'sending'")
    )
    # `atende jobs failed`: the dead jobs, latest first.
    op.create_index("ix_outbox_dead", "outbox", ["updated_at"], postgresql_where=sa.text("status = 'dead'"))

    op.execute(
        """
        INSERT INTO outbox (id, tenant_id, kind, ref_id, status, attempts, next_attempt_at, last_error,
                            created_at, updated_at)
        SELECT gen_random_uuid(), tenant_id, 'message', id,
               CASE delivery_status WHEN 'pending' THEN 'pending' ELSE 'dead' END, 0, now(),
               CASE delivery_status WHEN 'failed' THEN left(coalesce(delivery_error, 'failed'), 500) END,
               created_at, now()
        FROM messages
        WHERE delivery_status IN ('pending', 'failed')
        """
    )
    op.execute(
        """
        INSERT INTO outbox (id, tenant_id, kind, ref_id, status, attempts, next_attempt_at, last_error,
                            created_at, updated_at)
        SELECT gen_random_uuid(), tenant_id, 'webhook', id,
               CASE status WHEN 'pending' THEN 'pending' ELSE 'dead' END, attempts, now(),
               CASE status WHEN 'failed'
                   THEN left(coalesce(last_error, 'HTTP ' || last_status_code::text, 'failed'), 500) END,
               created_at, now()
        FROM webhook_deliveries
        WHERE status IN ('pending', 'failed')
        """
    )
    op.drop_index("ix_messages_delivery_pending", table_name="messages")
    op.drop_index("ix_webhook_deliveries_pending", table_name="webhook_deliveries")


def downgrade() -> None:
    op.create_index(
        "ix_webhook_deliveries_pending",
        "webhook_deliveries",
        ["created_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        "ix_messages_delivery_pending",
        "messages",
        ["created_at"],
        postgresql_where=sa.text("delivery_status = 'pending'"),
    )
    op.drop_table("outbox")
