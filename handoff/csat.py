"""Customer satisfaction: a closed ticket asks the customer for a 1-5 score; a bare score answers it."""

from __future__ import annotations

import datetime
import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from agents.replies import say
from channels.models import Conversation, Direction, Message
from channels.service import add_bot_message
from handoff.models import Ticket, TicketStatus
from knowledge.language import detect_language

ANSWER_WINDOW = datetime.timedelta(hours=24)
SCORE = re.compile(r"^\s*([1-5])\s*(?:/\s*5|estrelas?|stars?|⭐+)?\s*[.!]*\s*$", re.IGNORECASE)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


async def _language(session: AsyncSession, ticket: Ticket) -> str:
    text = await session.scalar(
        select(Message.text)
        .where(
            Message.tenant_id == ticket.tenant_id,
            Message.conversation_id == ticket.conversation_id,
            Message.direction == Direction.INBOUND,
        )
        .order_by(Message.created_at.desc())
        .limit(1)
    )
    return detect_language(text or "", default="pt")


async def ask_rating(session: AsyncSession, ticket: Ticket) -> Message:
    """The question, stored as the bot's message (the caller delivers it on the channel)."""
    conversation = await session.get_one(Conversation, ticket.conversation_id)
    question = add_bot_message(session, conversation, say("csat_question", await _language(session, ticket)))
    ticket.csat_asked_at = _now()
    await session.flush()
    return question


async def take_rating(session: AsyncSession, message: Message) -> Ticket | None:
    """If ``message`` is a bare 1-5 answer to a rating question asked less than a day ago, keep it."""
    score = SCORE.match(message.text)
    if score is None:
        return None
    ticket = await session.scalar(
        select(Ticket)
        .where(
            Ticket.tenant_id == message.tenant_id,
            Ticket.conversation_id == message.conversation_id,
            Ticket.status == TicketStatus.CLOSED,
            Ticket.csat_asked_at >= message.created_at - ANSWER_WINDOW,
            Ticket.csat_rating.is_(None),
        )
        .order_by(Ticket.csat_asked_at.desc())
        .limit(1)
        .with_for_update()
    )
    if ticket is not None:
        ticket.csat_rating = int(score.group(1))
    return ticket
