"""What the agent keeps per tenant: its configuration, and what its LLM calls cost."""

from __future__ import annotations

import decimal
import uuid
from typing import Any

from advanced_alchemy.base import UUIDv7AuditBase
from sqlalchemy import ForeignKey, Index, Numeric, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column


class AgentSettings(UUIDv7AuditBase):
    """One row per tenant: the escalation policy, the LLM provider (its key encrypted) and how its
    classifier learns."""

    __tablename__ = "agent_settings"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), unique=True, index=True
    )
    policy: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    llm: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    classifier: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


class LlmUsage(UUIDv7AuditBase):
    """Tokens and cost of one LLM call, so a tenant sees what each conversation cost."""

    __tablename__ = "llm_usage"
    __table_args__ = (Index("ix_llm_usage_tenant_created", "tenant_id", "created_at"),)

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    conversation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(32))
    provider: Mapped[str] = mapped_column(String(32))
    model: Mapped[str] = mapped_column(String(200))
    input_tokens: Mapped[int] = mapped_column(default=0)
    output_tokens: Mapped[int] = mapped_column(default=0)
    cost_usd: Mapped[decimal.Decimal] = mapped_column(Numeric(14, 6), default=decimal.Decimal(0))
