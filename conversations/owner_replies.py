"""The business answers a customer from its own phone, outside Atende (WhatsApp by QR code): as on
Whaticket, a person took over. The reply is stored in the conversation as a person's message, the
conversation goes to human mode so the bot says nothing more there, and its ticket opens (or the open
one counts the answer). Only after the commit does the inbox hear of it.

A bot reply still being written when this happens is kept from the customer: the turn checks the
conversation's mode under the same row lock when it stores its reply (``conversations.turn``).
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass

import structlog
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from agents.record import DecisionRecord
from channels.base import OwnerReply
from channels.models import Author, Channel, Conversation, DeliveryStatus, Direction, Message
from channels.service import get_or_create_conversation, insert_once
from conversations.media import keep_media
from conversations.notify import notify_inbox
from conversations.services import Services
from core.accounts import next_ticket_number
from handoff.events import InboxEvent, message_created, message_updated, ticket_created, ticket_updated
from handoff.service import active_ticket, open_ticket

log = structlog.get_logger(__name__)

OWNER_PHONE_RULE = "owner_phone"
ANSWERED_FROM_PHONE = "answered from the business's phone"
"""The ticket's reason and the decision record's; the inbox words it in Portuguese (``web/i18n.py``)."""


@dataclass(frozen=True)
class OwnerReplied:
    """What a reply from the business's phone led to."""

    message_id: uuid.UUID
    ticket_id: uuid.UUID | None
    """None for a late reply (see ``_is_late``): kept as history, it takes nothing over."""
    ticket_opened: bool
    """False when the conversation already had an open ticket, or for a late reply."""


@dataclass(frozen=True)
class _Stored:
    result: OwnerReplied
    message: Message
    events: tuple[InboxEvent, ...]


async def owner_replied(services: Services, channel: Channel, reply: OwnerReply) -> OwnerReplied | None:
    """Store the reply and hand the conversation to people, in one short transaction; then fetch its
    media, if any (holding nothing), and tell the inbox. None for an echo of a message Atende sent
    through the channel, and for a reply already stored."""
    fields = {"tenant_id": str(channel.tenant_id), "channel": channel.type}
    async with services.database.sessionmaker.begin() as session:
        stored = await _store(session, channel, reply)
    if stored is None:
        log.info("owner_reply.ignored", **fields)
        return None
    log.info(
        "owner_reply.stored",
        message_id=str(stored.result.message_id),
        ticket_id=str(stored.result.ticket_id),
        ticket_opened=stored.result.ticket_opened,
        **fields,
    )
    for event in stored.events:
        await notify_inbox(services, channel.tenant_id, event)
    if reply.content.attachments:
        await _fetch_media(services, channel, stored.message)
    return stored.result


async def _store(session: AsyncSession, channel: Channel, reply: OwnerReply) -> _Stored | None:
    contact, found = await get_or_create_conversation(session, channel, reply.contact_external_id, None)
    conversation = await session.scalar(
        select(Conversation)
        .where(Conversation.tenant_id == channel.tenant_id, Conversation.id == found.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert conversation is not None
    if await _known(session, channel, reply.channel_message_id):
        return None  # Atende sent it (an echo), or this reply is stored already
    late = await _is_late(session, conversation, reply)
    message = await _add_reply(session, channel, conversation, reply)
    if message is None:
        return None  # stored meanwhile by another delivery of the same event
    if late:
        return _Stored(
            OwnerReplied(message.id, None, ticket_opened=False), message, (message_created(message),)
        )
    had_ticket = await active_ticket(session, conversation.tenant_id, conversation.id)
    ticket = await open_ticket(session, conversation, ANSWERED_FROM_PHONE, next_ticket_number)
    ticket.first_response_at = ticket.first_response_at or message.created_at
    await session.flush()
    contact_label = contact.name or contact.external_id
    ticket_event = (
        ticket_updated(ticket, contact_label) if had_ticket else ticket_created(ticket, contact_label)
    )
    return _Stored(
        OwnerReplied(message.id, ticket.id, ticket_opened=had_ticket is None),
        message,
        (message_created(message), ticket_event),
    )


async def _is_late(session: AsyncSession, conversation: Conversation, reply: OwnerReply) -> bool:
    """The reply was sent before the conversation's newest message: WhatsApp is catching up on old
    traffic (a reconnect), and what happened since (an agent handing back to the bot) stands."""
    newest = await session.scalar(
        select(func.max(Message.created_at)).where(
            Message.tenant_id == conversation.tenant_id, Message.conversation_id == conversation.id
        )
    )
    return newest is not None and reply.sent_at < newest


async def _known(session: AsyncSession, channel: Channel, channel_message_id: str) -> bool:
    """A message of the channel already has this id: the channel's own for an inbound or stored reply,
    or the one it gave a message Atende delivered (``delivered_as``)."""
    found = await session.scalar(
        select(Message.id)
        .where(
            Message.tenant_id == channel.tenant_id,
            Message.channel_id == channel.id,
            or_(Message.channel_message_id == channel_message_id, Message.delivered_as == channel_message_id),
        )
        .limit(1)
    )
    return found is not None


async def _add_reply(
    session: AsyncSession, channel: Channel, conversation: Conversation, reply: OwnerReply
) -> Message | None:
    """A person's outbound message, already sent (the phone sent it), kept once per channel id."""
    decision = DecisionRecord(action="human", rule=OWNER_PHONE_RULE, reason=ANSWERED_FROM_PHONE)
    now = datetime.datetime.now(datetime.UTC)
    new_id = await insert_once(
        session,
        channel,
        conversation,
        reply.channel_message_id,
        direction=Direction.OUTBOUND,
        author=Author.AGENT,
        text=reply.text,
        decision=decision.as_json(),
        content=reply.content.as_dict(),
        processed=True,
        delivery_status=DeliveryStatus.SENT,
        delivered_as=reply.channel_message_id,  # the customer's receipts name it
        created_at=min(reply.sent_at, now),
        updated_at=now,
    )
    return None if new_id is None else await session.get_one(Message, new_id)


async def _fetch_media(services: Services, channel: Channel, message: Message) -> None:
    """The files the business sent, kept like a customer's; the inbox sees them once kept."""
    await keep_media(services, channel, message)
    async with services.database.sessionmaker.begin() as session:
        stored = await session.get_one(Message, message.id)
        stored.content = message.content
        await session.flush()
        event = message_updated(stored)
    await notify_inbox(services, channel.tenant_id, event)
