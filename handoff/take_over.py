"""A person on the team takes a conversation the bot is answering, as on Whaticket: the ticket opens,
it is theirs, and from then on the bot says nothing there. A reply the bot was still writing is kept
from the customer (see ``conversations.turn``: it checks who owns the conversation when it commits)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from channels.models import Conversation
from core.accounts import next_ticket_number
from core.errors import NotFoundError
from handoff.models import Ticket
from handoff.service import accept_ticket, open_ticket

TAKEN_OVER = "taken over by a person on the team"


async def take_over(
    session: AsyncSession, tenant_id: uuid.UUID, conversation_id: uuid.UUID, user_id: uuid.UUID
) -> Ticket:
    """The conversation's ticket (opened if none), accepted by ``user_id``; the conversation is human's.

    The conversation's row lock orders this against the bot's turn storing its reply."""
    conversation = await session.scalar(
        select(Conversation)
        .where(Conversation.tenant_id == tenant_id, Conversation.id == conversation_id)
        .with_for_update()
    )
    if conversation is None:
        raise NotFoundError(f"no conversation {conversation_id}")
    ticket = await open_ticket(session, conversation, TAKEN_OVER, next_ticket_number)
    return await accept_ticket(session, tenant_id, ticket.id, user_id)
