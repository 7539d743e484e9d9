"""A ticket's history: every change (by whom, with what) and the agents' internal notes."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.models import Ticket, TicketEvent, TicketEventKind


def record(
    session: AsyncSession,
    ticket: Ticket,
    kind: TicketEventKind,
    actor_id: uuid.UUID | None = None,
    **data: Any,
) -> TicketEvent:
    event = TicketEvent(
        tenant_id=ticket.tenant_id, ticket_id=ticket.id, kind=kind, actor_id=actor_id, data=data
    )
    session.add(event)
    return event


async def ticket_history(
    session: AsyncSession, tenant_id: uuid.UUID, ticket_ids: list[uuid.UUID]
) -> list[TicketEvent]:
    """Oldest first; the tickets of one conversation together (a reopened ticket keeps its past)."""
    return list(
        await session.scalars(
            select(TicketEvent)
            .where(TicketEvent.tenant_id == tenant_id, TicketEvent.ticket_id.in_(ticket_ids))
            .order_by(TicketEvent.created_at, TicketEvent.id)
        )
    )


async def conversation_history(
    session: AsyncSession, tenant_id: uuid.UUID, conversation_id: uuid.UUID
) -> list[TicketEvent]:
    """The history of every ticket the conversation had, oldest first, in one query."""
    tickets = select(Ticket.id).where(
        Ticket.tenant_id == tenant_id, Ticket.conversation_id == conversation_id
    )
    return list(
        await session.scalars(
            select(TicketEvent)
            .where(TicketEvent.tenant_id == tenant_id, TicketEvent.ticket_id.in_(tickets.scalar_subquery()))
            .order_by(TicketEvent.created_at, TicketEvent.id)
        )
    )
