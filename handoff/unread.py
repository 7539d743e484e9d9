"""Unread counts: the customer's messages the team has not read yet, per ticket.

A ticket nobody opened counts everything the customer wrote since the conversation's previous
ticket closed (or since it began): the bot's part of the conversation is news to the agent too.
A closed ticket stops counting at its closing.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence

from sqlalchemy import func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from channels.models import Author, Message
from handoff.models import Ticket


async def unread_counts(
    session: AsyncSession, tenant_id: uuid.UUID, ticket_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    if not ticket_ids:
        return {}
    previous = aliased(Ticket)
    previous_closed = (
        select(func.max(previous.closed_at))
        .where(
            previous.tenant_id == tenant_id,
            previous.conversation_id == Ticket.conversation_id,
            previous.id != Ticket.id,
            previous.closed_at < Ticket.created_at,
        )
        .scalar_subquery()
    )
    since = func.coalesce(
        Ticket.seen_at, previous_closed, literal(datetime.datetime.min.replace(tzinfo=datetime.UTC))
    )
    rows = await session.execute(
        select(Ticket.id, func.count(Message.id))
        .join(Message, Message.conversation_id == Ticket.conversation_id)
        .where(
            Ticket.tenant_id == tenant_id,
            Ticket.id.in_(ticket_ids),
            Message.tenant_id == tenant_id,
            Message.author == Author.CUSTOMER,
            Message.created_at > since,
            Message.created_at
            <= func.coalesce(Ticket.closed_at, literal(datetime.datetime.max.replace(tzinfo=datetime.UTC))),
        )
        .group_by(Ticket.id)
    )
    return dict(rows.tuples().all())


async def mark_seen(session: AsyncSession, tenant_id: uuid.UUID, ticket_id: uuid.UUID) -> None:
    await session.execute(
        update(Ticket)
        .where(Ticket.tenant_id == tenant_id, Ticket.id == ticket_id)
        .values(seen_at=datetime.datetime.now(datetime.UTC))  # the clock messages are stamped with
    )
