"""Queues and tickets: a ticket is a conversation handed to humans."""

from __future__ import annotations

import datetime
import uuid
from enum import StrEnum

from advanced_alchemy.base import UUIDv7AuditBase
from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column


class TicketStatus(StrEnum):
    PENDING = "pending"
    OPEN = "open"
    CLOSED = "closed"


class Queue(UUIDv7AuditBase):
    __tablename__ = "queues"
    __table_args__ = (UniqueConstraint("tenant_id", "name", name="uq_queues_tenant_name"),)

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    is_default: Mapped[bool] = mapped_column(default=False)


class Ticket(UUIDv7AuditBase):
    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("tenant_id", "protocol", name="uq_tickets_tenant_protocol"),
        Index("ix_tickets_tenant_status", "tenant_id", "status"),
        # At most one live ticket per conversation.
        Index(
            "uq_tickets_active_conversation",
            "conversation_id",
            unique=True,
            postgresql_where=text("status <> 'closed'"),
        ),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    queue_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("queues.id", ondelete="RESTRICT"))
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default=TicketStatus.PENDING)
    protocol: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text, default="")
    accepted_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    closed_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True))
