"""TOTP two-factor authentication (core/two_factor.py): each person's secret, encrypted, and the time-step
of the last code used; their one-time recovery codes, hashed; and whether a tenant requires it.

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.schema import SchemaItem

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def _owned_columns(table: str) -> list[SchemaItem]:
    """What every tenant-owned table has (core.tenancy.TenantOwned), and its user's key."""
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f(f"fk_{table}_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f(f"fk_{table}_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def upgrade() -> None:
    op.add_column(
        "tenants",
        sa.Column("require_two_factor", sa.Boolean(), nullable=False, server_default=sa.text("false")),
    )
    op.create_table(
        "user_two_factor",
        *_owned_columns("user_two_factor"),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("enabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_step", sa.BigInteger(), nullable=True),
        sa.UniqueConstraint("user_id", name=op.f("uq_user_two_factor_user_id")),
    )
    op.create_index(op.f("ix_user_two_factor_tenant_id"), "user_two_factor", ["tenant_id"], unique=False)
    op.create_table(
        "user_recovery_codes",
        *_owned_columns("user_recovery_codes"),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index(
        op.f("ix_user_recovery_codes_tenant_id"), "user_recovery_codes", ["tenant_id"], unique=False
    )
    op.create_index(op.f("ix_user_recovery_codes_user_id"), "user_recovery_codes", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_table("user_recovery_codes")
    op.drop_table("user_two_factor")
    op.drop_column("tenants", "require_two_factor")
