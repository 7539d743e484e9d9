"""Queues and tickets: a ticket is a conversation handed to humans."""

from __future__ import annotations

import datetime
import uuid
from enum import StrEnum
from typing import Any

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.tenancy import TenantOwned


class TicketStatus(StrEnum):
    PENDING = "pending"
    OPEN = "open"
    CLOSED = "closed"


class Routing(StrEnum):
    ROUND_ROBIN = "round_robin"
    """Each new ticket to the next online member in turn."""
    LEAST_BUSY = "least_busy"
    """Each new ticket to the online member with the fewest open tickets."""


class Queue(TenantOwned):
    """Where escalated conversations wait for the people who answer them."""

    __tablename__ = "queues"
    __table_args__ = (UniqueConstraint("tenant_id", "name", name="uq_queues_tenant_name"),)

    name: Mapped[str] = mapped_column(String(100))
    is_default: Mapped[bool] = mapped_column(default=False)
    color: Mapped[str] = mapped_column(String(7), default="#4f6bed")
    greeting: Mapped[str] = mapped_column(Text, default="")
    """Said to the customer when a ticket enters the queue (empty: nothing)."""
    business_hours: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    """agents.policy.BusinessHours as JSON; None: the queue is always staffed."""
    routing: Mapped[str] = mapped_column(String(16), default=Routing.ROUND_ROBIN)
    max_open_per_agent: Mapped[int] = mapped_column(default=5)
    first_response_minutes: Mapped[int | None] = mapped_column()
    """SLA: a person answers within this long of the hand-off (None: no target)."""
    resolution_minutes: Mapped[int | None] = mapped_column()
    """SLA: the ticket closes within this long of the hand-off (None: no target)."""
    last_assigned_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    """Round-robin's place: the member who got the queue's last ticket."""


class QueueMember(TenantOwned):
    __tablename__ = "queue_members"
    __table_args__ = (UniqueConstraint("queue_id", "user_id", name="uq_queue_members_queue_user"),)

    queue_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("queues.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)


class Ticket(TenantOwned):
    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("tenant_id", "protocol", name="uq_tickets_tenant_protocol"),
        Index("ix_tickets_tenant_status", "tenant_id", "status"),
        Index("ix_tickets_open_assignee", "assignee_id", postgresql_where=text("status = 'open'")),
        # At most one live ticket per conversation.
        Index(
            "uq_tickets_active_conversation",
            "conversation_id",
            unique=True,
            postgresql_where=text("status <> 'closed'"),
        ),
    )

    conversation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    queue_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("queues.id", ondelete="RESTRICT"))
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default=TicketStatus.PENDING)
    protocol: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text, default="")
    accepted_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    closed_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    first_response_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    """When a person first answered the customer."""
    csat_asked_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    """When the customer was asked to rate the service (on closing)."""
    csat_rating: Mapped[int | None] = mapped_column()
    """1 (bad) to 5 (great), as the customer answered."""
    seen_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    """When someone on the team last read it: the customer's later messages are unread."""


class TicketEventKind(StrEnum):
    CREATED = "created"
    REOPENED = "reopened"
    ASSIGNED = "assigned"
    ACCEPTED = "accepted"
    TRANSFERRED = "transferred"
    NOTE = "note"
    RETURNED_TO_BOT = "returned_to_bot"
    CLOSED = "closed"


class TicketEvent(TenantOwned):
    """The ticket's history, shown in the conversation: who did what, and the agents' internal notes
    (never sent to the customer)."""

    __tablename__ = "ticket_events"
    __table_args__ = (Index("ix_ticket_events_ticket_created", "ticket_id", "created_at"),)

    ticket_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    """Who did it; None for the bot and the router."""
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


class QuickReply(TenantOwned):
    """A canned answer agents insert by its /shortcut; ``{{contact.name}}`` and friends are filled in."""

    __tablename__ = "quick_replies"
    __table_args__ = (UniqueConstraint("tenant_id", "shortcut", name="uq_quick_replies_tenant_shortcut"),)

    shortcut: Mapped[str] = mapped_column(String(50))
    text: Mapped[str] = mapped_column(Text)


class Tag(TenantOwned):
    __tablename__ = "tags"
    __table_args__ = (UniqueConstraint("tenant_id", "name", name="uq_tags_tenant_name"),)

    name: Mapped[str] = mapped_column(String(50))
    color: Mapped[str] = mapped_column(String(7), default="#888888")


class TicketTag(TenantOwned):
    __tablename__ = "ticket_tags"
    __table_args__ = (UniqueConstraint("ticket_id", "tag_id", name="uq_ticket_tags_ticket_tag"),)

    ticket_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    tag_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), index=True)
