"""What the inbox hears: the events on a tenant's inbox stream, and what its webhook subscribers get.

One tagged union, ``InboxEvent``, encoded by msgspec as ``{"type": "ticket.updated", "ticket": …}``
and so on; the inbox page (``web/static/inbox.js``), the webhook outbox
(``integrations.webhooks.queue_webhooks``) and the inbox socket's filter (``web/inbox_events.py``)
read these shapes. Events are made by the functions below, and sent only after the transaction that
made the change commits (``conversations.notify.notify_inbox``).

They live on this floor because a message's view (``channels``) and a ticket's (``handoff``) are
both in them, and the webhook outbox (``integrations``), a floor above, stores them.
"""

from __future__ import annotations

import uuid
from typing import Literal

import msgspec

from channels.models import Message
from channels.views import MessageView, message_view
from handoff.models import Ticket
from handoff.views import TicketView, ticket_view


class MessageCreated(msgspec.Struct, tag_field="type", tag="message.created"):
    """A message was stored: the customer's, the bot's, an agent's."""

    conversation_id: str
    message: MessageView


class MessageUpdated(msgspec.Struct, tag_field="type", tag="message.updated"):
    """A message's delivery status moved (sent, delivered, read, failed)."""

    conversation_id: str
    message: MessageView


class TicketCreated(msgspec.Struct, tag_field="type", tag="ticket.created"):
    """The bot handed the conversation to a person."""

    ticket: TicketView


class TicketUpdated(msgspec.Struct, tag_field="type", tag="ticket.updated"):
    """A ticket was accepted, answered, transferred, closed, handed back, rated or assigned."""

    ticket: TicketView


class Typing(msgspec.Struct, tag_field="type", tag="typing", omit_defaults=True):
    """Someone is writing: the customer (where the channel says so) or an agent (then who)."""

    who: Literal["customer", "agent"]
    conversation_id: str
    user_id: str | None = None
    name: str | None = None


TicketEvent = TicketCreated | TicketUpdated
InboxEvent = MessageCreated | MessageUpdated | TicketCreated | TicketUpdated | Typing

WEBHOOK_EVENT_TYPES: tuple[str, ...] = tuple(
    str(kind.__struct_config__.tag) for kind in (MessageCreated, MessageUpdated, TicketCreated, TicketUpdated)
)
"""The events a webhook may subscribe to; typing is a courtesy for open pages, never sent."""


def event_type(event: InboxEvent) -> str:
    """The event's ``type`` on the wire (``ticket.updated``…)."""
    return str(event.__struct_config__.tag)


def decode(data: bytes | str) -> InboxEvent:
    """An event as the stream carries it; ``msgspec.DecodeError`` when it is none of them."""
    return msgspec.json.decode(data, type=InboxEvent)


def message_created(message: Message) -> MessageCreated:
    return MessageCreated(str(message.conversation_id), message_view(message))


def message_created_view(view: MessageView) -> MessageCreated:
    """Of a message already shaped (captured inside the transaction that wrote it)."""
    return MessageCreated(view.conversation_id, view)


def message_updated(message: Message) -> MessageUpdated:
    return MessageUpdated(str(message.conversation_id), message_view(message))


def ticket_created(ticket: Ticket, contact: str | None = None) -> TicketCreated:
    return TicketCreated(ticket_view(ticket, contact))


def ticket_updated(ticket: Ticket | TicketView, contact: str | None = None) -> TicketUpdated:
    """Of the ticket, or of a view of it already made."""
    return TicketUpdated(ticket if isinstance(ticket, TicketView) else ticket_view(ticket, contact))


def customer_typing(conversation_id: uuid.UUID) -> Typing:
    return Typing("customer", str(conversation_id))


def agent_typing(conversation_id: uuid.UUID, user_id: uuid.UUID, name: str) -> Typing:
    return Typing("agent", str(conversation_id), str(user_id), name)
