"""What the public API does for a tenant's systems: send a message, page through conversations,
tickets and contacts, rename a contact. Every query is scoped by the API key's tenant."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from channels.contacts import get_contact
from channels.models import Author, Channel, Contact, Conversation, Direction, Message
from channels.service import find_conversation
from channels.stored import get_channel
from core.errors import NotFoundError
from core.tenancy import TenantOwned
from handoff.models import Ticket

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int


async def _page(session: AsyncSession, query: Select[*tuple[Any, ...]], limit: int, offset: int) -> Page[Any]:
    """The query's rows from ``offset`` on, at most ``limit``: an entity each, or a tuple when it selects
    several; and how many rows there are in all."""
    total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = await session.execute(query.limit(limit).offset(offset))
    items = rows.scalars().all() if len(query.column_descriptions) == 1 else rows.tuples().all()
    return Page(list(items), int(total or 0))


def _tenants_newest_first(
    query: Select[*tuple[Any, ...]], entity: type[TenantOwned], tenant_id: uuid.UUID
) -> Select[*tuple[Any, ...]]:
    """The query kept to the tenant's rows of ``entity``, newest first; the id orders rows made in the
    same instant, so that pages neither repeat nor skip one."""
    return query.where(entity.tenant_id == tenant_id).order_by(entity.created_at.desc(), entity.id.desc())


async def store_api_message(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    channel_id: uuid.UUID,
    contact_external_id: str,
    text: str,
    client_id: str | None,
    key_prefix: str,
) -> tuple[Message, Channel, Contact, bool]:
    """An outbound message to a contact who already wrote on the channel; says whether it is new.

    ``client_id``, the caller's own id for the message, makes a retried call store (and send) it once.
    """
    channel = await get_channel(session, tenant_id, channel_id)
    found = await find_conversation(session, tenant_id, contact_external_id, channel)
    if found is None:
        raise NotFoundError(f"no contact {contact_external_id!r} on channel {channel_id}", field="contact")
    contact, conversation = found
    channel_message_id = f"api:{client_id}" if client_id else f"api:{uuid.uuid4()}"
    new_id = await session.scalar(
        insert(Message)
        .values(
            id=uuid.uuid4(),
            tenant_id=tenant_id,
            conversation_id=conversation.id,
            channel_id=channel.id,
            channel_message_id=channel_message_id,
            direction=Direction.OUTBOUND,
            author=Author.AGENT,
            text=text,
            citations=[],
            content={},
            decision={"action": "api", "rule": "public_api", "reason": f"sent with API key {key_prefix}…"},
            processed=True,
        )
        .on_conflict_do_nothing(constraint="uq_messages_channel_message")
        .returning(Message.id)
    )
    message = await session.scalar(
        select(Message).where(
            Message.channel_id == channel.id, Message.channel_message_id == channel_message_id
        )
    )
    assert message is not None
    return message, channel, contact, new_id is not None


async def page_conversations(
    session: AsyncSession, tenant_id: uuid.UUID, limit: int, offset: int, channel_id: uuid.UUID | None
) -> Page[tuple[Conversation, Contact]]:
    """Newest first."""
    query = select(Conversation, Contact).join(Contact, Contact.id == Conversation.contact_id)
    if channel_id:
        query = query.where(Conversation.channel_id == channel_id)
    return await _page(session, _tenants_newest_first(query, Conversation, tenant_id), limit, offset)


async def page_messages(
    session: AsyncSession, tenant_id: uuid.UUID, conversation_id: uuid.UUID, limit: int, offset: int
) -> Page[Message]:
    """A conversation's messages, oldest first."""
    found = await session.scalar(
        select(Conversation.id).where(Conversation.tenant_id == tenant_id, Conversation.id == conversation_id)
    )
    if found is None:
        raise NotFoundError(f"no conversation {conversation_id}")
    query = (
        select(Message)
        .where(Message.tenant_id == tenant_id, Message.conversation_id == conversation_id)
        .order_by(Message.created_at, Message.id)
    )
    return await _page(session, query, limit, offset)


async def page_tickets(
    session: AsyncSession, tenant_id: uuid.UUID, limit: int, offset: int, status: str | None
) -> Page[tuple[Ticket, Contact]]:
    """Newest first."""
    query = (
        select(Ticket, Contact)
        .join(Conversation, Conversation.id == Ticket.conversation_id)
        .join(Contact, Contact.id == Conversation.contact_id)
    )
    if status:
        query = query.where(Ticket.status == status)
    return await _page(session, _tenants_newest_first(query, Ticket, tenant_id), limit, offset)


async def page_contacts(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    limit: int,
    offset: int,
    channel_id: uuid.UUID | None,
    external_id: str | None,
) -> Page[Contact]:
    query = (
        select(Contact).where(Contact.tenant_id == tenant_id).order_by(Contact.created_at.desc(), Contact.id)
    )
    if channel_id:
        query = query.where(Contact.channel_id == channel_id)
    if external_id:
        query = query.where(Contact.external_id == external_id)
    return await _page(session, query, limit, offset)


async def rename_contact(
    session: AsyncSession, tenant_id: uuid.UUID, contact_id: uuid.UUID, name: str | None
) -> Contact:
    contact = await get_contact(session, tenant_id, contact_id)
    contact.name = name.strip() if name and name.strip() else None
    await session.flush()
    return contact
