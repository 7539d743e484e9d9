"""What the agent needs to know for one turn: the tenant's settings and the conversation so far."""

from __future__ import annotations

import datetime
import uuid

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Date, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from agents.classifiers import ConversationHistory, tenant_classifier
from agents.context import AgentContext
from agents.llm import ChatMessage
from agents.tenant_settings import tenant_agent_settings
from channels.models import Author, Direction, Message
from handoff.models import Ticket
from knowledge.search import Passage
from knowledge.search import search as search_knowledge
from runtime.accounts import Tenant
from runtime.services import SEARCH_K, Services

TRANSCRIPT_MESSAGES = 10
HISTORY_DAYS = 30


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
            )
            .order_by(Message.created_at.desc())
            .limit(TRANSCRIPT_MESSAGES)
        )
    )[::-1]
    sentiments = [
        float(m.decision["classification"]["sentiment_score"])
        for m in recent
        if m.direction == Direction.INBOUND and m.decision and "classification" in m.decision
    ]
    since = before - datetime.timedelta(days=HISTORY_DAYS)
    contact_days = await session.scalar(
        select(func.count(func.distinct(cast(Message.created_at, Date)))).where(
            Message.tenant_id == tenant_id,
            Message.conversation_id == conversation_id,
            Message.direction == Direction.INBOUND,
            Message.created_at >= since,
            cast(Message.created_at, Date) < before.date(),
        )
    )
    tickets = await session.scalar(
        select(func.count()).where(
            Ticket.tenant_id == tenant_id,
            Ticket.conversation_id == conversation_id,
            Ticket.created_at < before,
        )
    )
    transcript = [
        ChatMessage(role="user" if m.author == Author.CUSTOMER else "assistant", content=m.text)
        for m in recent
    ]
    history = ConversationHistory(
        sentiments=sentiments, repeat_contacts=int(contact_days or 0), past_escalations=int(tickets or 0)
    )
    return history, transcript


async def build_agent_context(
    services: Services, session: AsyncSession, tenant: Tenant, message: Message | None = None
) -> AgentContext:
    """The tenant's classifier, policy and LLM; with a stored message, its conversation too."""
    embedder = services.embedder
    reranker = services.reranker

    async def search(query: str, vector: NDArray[np.float32]) -> list[Passage]:
        return await search_knowledge(
            session, embedder, tenant.id, query, SEARCH_K, reranker=reranker, vector=vector
        )

    tenant_settings = await tenant_agent_settings(session, tenant.id, services.settings)
    policy, llm = tenant_settings.policy, tenant_settings.llm
    context = AgentContext(
        search=search,
        embedder=embedder,
        classifier=await tenant_classifier(session, tenant.id, embedder, tenant_settings.classifier),
        policy=policy,
        min_relevance=policy.retrieval_threshold(services.settings.min_relevance),
        llm=llm.provider if llm else None,
        llm_classifies=bool(llm and llm.classifies),
        company=tenant.name,
    )
    if message is not None:
        context.history, context.transcript = await conversation_history(
            session, tenant.id, message.conversation_id, message.created_at
        )
    return context
