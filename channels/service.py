"""Find or create channels, contacts and conversations; store inbound messages exactly once."""

from __future__ import annotations

import uuid
from typing import Any, NoReturn

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import InboundMessage
from channels.contacts import phone_of
from channels.models import Author, Channel, Contact, Conversation, Direction, Message


async def get_or_create_channel(
    session: AsyncSession, tenant_id: uuid.UUID, type_: str, name: str = "default"
) -> Channel:
    await session.execute(
        insert(Channel)
        .values(id=uuid.uuid4(), tenant_id=tenant_id, type=type_, name=name, config={})
        .on_conflict_do_nothing(constraint="uq_channels_tenant_type_name")
    )
    return await session.scalar(
        select(Channel).where(Channel.tenant_id == tenant_id, Channel.type == type_, Channel.name == name)
    ) or _missing("channel")


async def get_or_create_conversation(
    session: AsyncSession, channel: Channel, external_id: str, name: str | None
) -> tuple[Contact, Conversation]:
    await session.execute(
        insert(Contact)
        .values(
            id=uuid.uuid4(),
            tenant_id=channel.tenant_id,
            channel_id=channel.id,
            external_id=external_id,
            name=name,
            phone=phone_of(channel.type, external_id),
            custom_fields={},
        )
        .on_conflict_do_nothing(constraint="uq_contacts_channel_external")
    )
    contact = await session.scalar(
        select(Contact).where(Contact.channel_id == channel.id, Contact.external_id == external_id)
    ) or _missing("contact")
    await session.execute(
        insert(Conversation)
        .values(
            id=uuid.uuid4(),
            tenant_id=channel.tenant_id,
            channel_id=channel.id,
            contact_id=contact.id,
            mode="bot",
        )
        .on_conflict_do_nothing(index_elements=["contact_id"])
    )
    conversation = await session.scalar(
        select(Conversation).where(Conversation.contact_id == contact.id)
    ) or _missing("conversation")
    return contact, conversation


async def store_inbound(
    session: AsyncSession, channel: Channel, conversation: Conversation, inbound: InboundMessage
) -> tuple[Message, bool]:
    """Insert the message unless the channel already delivered this id; says whether it is new."""
    new_id = await session.scalar(
        insert(Message)
        .values(
            id=uuid.uuid4(),
            tenant_id=channel.tenant_id,
            conversation_id=conversation.id,
            channel_id=channel.id,
            channel_message_id=inbound.channel_message_id,
            direction=Direction.INBOUND,
            author=Author.CUSTOMER,
            text=inbound.text,
            citations=[],
            content=inbound.content.as_dict(),
            processed=False,
        )
        .on_conflict_do_nothing(constraint="uq_messages_channel_message")
        .returning(Message.id)
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
