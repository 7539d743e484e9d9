"""Find or create channels, contacts and conversations; store inbound messages exactly once."""

from __future__ import annotations

import uuid
from typing import Any, NoReturn, TypeVar

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import InboundMessage
from channels.contacts import phone_of
from channels.models import Author, Channel, Contact, Conversation, Direction, Message

Found = TypeVar("Found", Channel, Contact, Conversation)


async def _find_or_insert(
    session: AsyncSession, model: type[Found], key: dict[str, Any], values: dict[str, Any], **on_conflict: Any
) -> Found:
    """The row of ``model`` with ``key``, inserted with ``values`` when there is none. Two callers at
    once both get the one row: the second insert does nothing (``on_conflict`` names the constraint).

    Looked up first: the row is there for almost every message (the channel, a returning customer), so
    that is one statement; a new row takes two (the insert returns it), three when a racer won."""
    found = await session.scalar(select(model).filter_by(**key))
    if found is not None:
        return found
    inserted: Found | None = await session.scalar(
        insert(model)
        .values(id=uuid.uuid4(), **key, **values)
        .on_conflict_do_nothing(**on_conflict)
        .returning(model)
    )
    if inserted is not None:
        return inserted
    return await session.scalar(select(model).filter_by(**key)) or _missing(model.__name__.lower())


async def get_or_create_channel(
    session: AsyncSession, tenant_id: uuid.UUID, type_: str, name: str = "default"
) -> Channel:
    key = {"tenant_id": tenant_id, "type": type_, "name": name}
    return await _find_or_insert(
        session, Channel, key, {"config": {}}, constraint="uq_channels_tenant_type_name"
    )


async def get_or_create_conversation(
    session: AsyncSession, channel: Channel, external_id: str, name: str | None
) -> tuple[Contact, Conversation]:
    contact = await _find_or_insert(
        session,
        Contact,
        {"channel_id": channel.id, "external_id": external_id},
        {
            "tenant_id": channel.tenant_id,
            "name": name,
            "phone": phone_of(channel.type, external_id),
            "custom_fields": {},
        },
        constraint="uq_contacts_channel_external",
    )
    conversation = await _find_or_insert(
        session,
        Conversation,
        {"contact_id": contact.id},
        {"tenant_id": channel.tenant_id, "channel_id": channel.id, "mode": "bot"},
        index_elements=["contact_id"],
    )
    return contact, conversation


async def find_conversation(
    session: AsyncSession, tenant_id: uuid.UUID, external_id: str, channel: Channel | str
) -> tuple[Contact, Conversation] | None:
    """The conversation of the contact ``external_id`` on ``channel`` (or on the tenant's channel of
    that type: ``"webchat"``); None while they have not written."""
    on_channel = Channel.id == channel.id if isinstance(channel, Channel) else Channel.type == channel
    found = await session.execute(
        select(Contact, Conversation)
        .join(Conversation, Conversation.contact_id == Contact.id)
        .join(Channel, Channel.id == Contact.channel_id)
        .where(Channel.tenant_id == tenant_id, on_channel, Contact.external_id == external_id)
    )
    return found.tuples().first()


async def insert_once(
    session: AsyncSession,
    channel: Channel,
    conversation: Conversation,
    channel_message_id: str,
    **values: Any,
) -> uuid.UUID | None:
    """Insert a message the channel gave an id, unless a message with that id is stored already (the
    channel delivered it twice): the new message's id, or None."""
    return await session.scalar(
        insert(Message)
        .values(
            id=uuid.uuid4(),
            tenant_id=channel.tenant_id,
            conversation_id=conversation.id,
            channel_id=channel.id,
            channel_message_id=channel_message_id,
            citations=[],
            **values,
        )
        .on_conflict_do_nothing(constraint="uq_messages_channel_message")
        .returning(Message.id)
    )


async def store_inbound(
    session: AsyncSession, channel: Channel, conversation: Conversation, inbound: InboundMessage
) -> tuple[Message, bool]:
    """Insert the message unless the channel already delivered this id; says whether it is new."""
    new_id = await insert_once(
        session,
        channel,
        conversation,
        inbound.channel_message_id,
        direction=Direction.INBOUND,
        author=Author.CUSTOMER,
        text=inbound.text,
        content=inbound.content.as_dict(),
        processed=False,
    )
    message = await session.scalar(
        select(Message).where(
            Message.channel_id == channel.id, Message.channel_message_id == inbound.channel_message_id
        )
    )
    assert message is not None
    return message, new_id is not None


async def conversation_messages(
    session: AsyncSession, tenant_id: uuid.UUID, conversation_id: uuid.UUID
) -> list[Message]:
    return list(
        await session.scalars(
            select(Message)
            .where(Message.tenant_id == tenant_id, Message.conversation_id == conversation_id)
            .order_by(Message.created_at, Message.id)
        )
    )


def _missing(what: str) -> NoReturn:
    raise RuntimeError(f"{what} vanished right after it was upserted")


async def unanswered_questions(
    session: AsyncSession, tenant_id: uuid.UUID, rule: str, limit: int = 2000
) -> list[str]:
    """Customer messages the bot handed off under ``rule`` (e.g. nothing relevant found), newest first."""
    return list(
        await session.scalars(
            select(Message.text)
            .where(
                Message.tenant_id == tenant_id,
                Message.direction == "inbound",
                Message.decision["rule"].astext == rule,
            )
            .order_by(Message.created_at.desc())
            .limit(limit)
        )
    )


def add_bot_message(
    session: AsyncSession,
    conversation: Conversation,
    text: str,
    *,
    reply_to: Message | None = None,
    citations: list[dict[str, Any]] | None = None,
    decision: dict[str, Any] | None = None,
) -> Message:
    """The bot's outbound message in a conversation, added to the session (the caller flushes and
    delivers it): the one place a bot message is made."""
    message = Message(
        tenant_id=conversation.tenant_id,
        conversation_id=conversation.id,
        channel_id=conversation.channel_id,
        reply_to_id=reply_to.id if reply_to else None,
        direction=Direction.OUTBOUND,
        author=Author.BOT,
        text=text,
        citations=citations or [],
        decision=decision,
        processed=True,
    )
    session.add(message)
    return message
