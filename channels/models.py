"""Channels a tenant configured, the contacts who write on them, conversations and messages."""

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


class ConversationMode(StrEnum):
    BOT = "bot"
    HUMAN = "human"


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class Author(StrEnum):
    CUSTOMER = "customer"
    BOT = "bot"
    AGENT = "agent"


class DeliveryStatus(StrEnum):
    """Where an outbound message is on its way to the customer (external channels only)."""

    PENDING = "pending"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"
    SUPPRESSED = "suppressed"
    """A bot reply never sent: a human took the conversation while the bot was writing it."""


class Channel(TenantOwned):
    """A way a tenant's customers reach it: the web chat, a Telegram bot, a WhatsApp number."""

    __tablename__ = "channels"
    __table_args__ = (UniqueConstraint("tenant_id", "type", "name", name="uq_channels_tenant_type_name"),)

    type: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    config: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    """Settings that are not secret: the API's address, the mode (webhook or polling)."""
    credentials: Mapped[str | None] = mapped_column(Text)
    """Tokens and secrets as one JSON object, encrypted (see core.secrets)."""


class Contact(TenantOwned):
    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("channel_id", "external_id", name="uq_contacts_channel_external"),)

    channel_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(32))
    """Digits only; with the e-mail, it links one person's contacts on several channels."""
    custom_fields: Mapped[dict[str, str]] = mapped_column(JSONB, default=dict)


class Conversation(TenantOwned):
    """One thread with a contact on a channel; its id is also the agent graph's thread id."""

    __tablename__ = "conversations"

    channel_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    contact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), unique=True)
    mode: Mapped[str] = mapped_column(String(16), default=ConversationMode.BOT)
    turn_token: Mapped[uuid.UUID | None] = mapped_column()
    """The fencing token of the turn that holds the conversation (see conversations.turn_lease)."""
    turn_until: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    """When that turn's lease runs out unless renewed: a worker that died stops holding it then."""


class Message(TenantOwned):
    """A message in or out, with the agent's decision record when the bot handled it."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("channel_id", "channel_message_id", name="uq_messages_channel_message"),
        Index("ix_messages_conversation_created", "conversation_id", "created_at"),
        Index("ix_messages_channel_delivered_as", "channel_id", "delivered_as"),
        Index(
            "ix_messages_unanswered",
            "created_at",
            postgresql_where=text("processed = false AND direction = 'inbound'"),
        ),
    )

    conversation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    channel_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    channel_message_id: Mapped[str | None] = mapped_column(String(200))
    direction: Mapped[str] = mapped_column(String(16))
    author: Mapped[str] = mapped_column(String(16))
    author_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reply_to_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL"), index=True
    )
    """For a bot reply: the customer message it answers (a retried turn finds it instead of answering again)."""
    text: Mapped[str] = mapped_column(Text)
    citations: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    decision: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    processed: Mapped[bool] = mapped_column(default=False)
    content: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    """What is not text: ``attachments`` (media), ``location``, ``contact_card``, ``quoted`` (the
    channel's id of the message it answers)."""
    delivery_status: Mapped[str | None] = mapped_column(String(16))
    """Outbound on an external channel: pending, sent, delivered, read or failed (see DeliveryStatus)."""
    delivery_error: Mapped[str | None] = mapped_column(Text)
    delivered_as: Mapped[str | None] = mapped_column(String(200))
    """The channel's id for an outbound message once sent: its status updates name it."""
