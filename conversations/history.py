"""What the agent knows of a conversation for one turn: earlier sentiment, repeat contacts, past tickets
and the recent transcript."""

from __future__ import annotations

import datetime
import uuid

from msgspec import UnsetType
from sqlalchemy import Date, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from agents.classifiers import ConversationHistory
from agents.context import AgentContext
from agents.llm import ChatMessage
from agents.record import DecisionRecord
from agents.tenant_context import build_agent_context
from channels.models import Author, DeliveryStatus, Direction, Message
from conversations.services import Services
from core.accounts import Tenant
from handoff.models import Ticket

TRANSCRIPT_MESSAGES = 10
HISTORY_DAYS = 30


def _sentiment_score(message: Message) -> float | None:
    """None when no classifier ran: a rating, a human's turn, media the bot could not read."""
    seen = DecisionRecord.from_json(message.decision).classification if message.decision else None
    if seen is None or isinstance(seen.sentiment_score, UnsetType):
        return None
    return seen.sentiment_score


async def conversation_history(
    session: AsyncSession, tenant_id: uuid.UUID, conversation_id: uuid.UUID, before: datetime.datetime
) -> tuple[ConversationHistory, list[ChatMessage]]:
    """Sentiment of earlier turns, repeat contacts, past tickets, and the recent transcript."""
    recent = list(
        await session.scalars(
            select(Message)
            .where(
                Message.tenant_id == tenant_id,
                Message.conversation_id == conversation_id,
                Message.created_at < before,
                Message.delivery_status.is_distinct_from(DeliveryStatus.SUPPRESSED),
            )
            .order_by(Message.created_at.desc())
            .limit(TRANSCRIPT_MESSAGES)
        )
    )[::-1]
    scores = [_sentiment_score(m) for m in recent if m.direction == Direction.INBOUND]
    sentiments = [score for score in scores if score is not None]
    since = before - datetime.timedelta(days=HISTORY_DAYS)
    contact_days = (
        select(func.count(func.distinct(cast(Message.created_at, Date))))
        .where(
            Message.tenant_id == tenant_id,
            Message.conversation_id == conversation_id,
            Message.direction == Direction.INBOUND,
            Message.created_at >= since,
            cast(Message.created_at, Date) < before.date(),
        )
        .scalar_subquery()
    )
    tickets = (
        select(func.count())
        .where(
            Ticket.tenant_id == tenant_id,
            Ticket.conversation_id == conversation_id,
            Ticket.created_at < before,
        )
        .scalar_subquery()
    )
    # Both counts in one round trip.
    repeat_contacts, past_escalations = (await session.execute(select(contact_days, tickets))).one()
    transcript = [
        ChatMessage(role="user" if m.author == Author.CUSTOMER else "assistant", content=m.text)
        for m in recent
    ]
    history = ConversationHistory(
        sentiments=sentiments,
        repeat_contacts=int(repeat_contacts or 0),
        past_escalations=int(past_escalations or 0),
    )
    return history, transcript


async def build_turn_context(
    services: Services, session: AsyncSession, tenant: Tenant, message: Message
) -> AgentContext:
    """The tenant's context for the agent, with this conversation's history up to the message (replies
    the customer never got left out). Its searches open sessions of their own: ``session`` may close."""
    context = await build_agent_context(
        services, session, tenant, search_sessions=services.database.sessionmaker
    )
    context.history, context.transcript = await conversation_history(
        session, tenant.id, message.conversation_id, message.created_at
    )
    return context
