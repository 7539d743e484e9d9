"""AI help beside a ticket: the hand-off summary with suggested replies, and a summary on demand."""

from __future__ import annotations

import uuid
from typing import Literal

import msgspec
from litestar import get, post
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.services import Services
from core.accounts import tenant_of
from handoff.copilot.suggestions import HandoffSummary, Suggestion, suggest_replies, summarize
from handoff.copilot.summary import ConversationSummary, summarize_conversation
from handoff.inbox import ticket_messages
from web.auth import InboxController
from web.tickets import AgentRequest


class AssistView(msgspec.Struct):
    summary: HandoffSummary
    suggestions: list[Suggestion]


class AssistController(InboxController):
    path = "/api/v1/tickets/{ticket_id:uuid}"

    @get("/assist")
    async def assist(
        self, request: AgentRequest, ticket_id: uuid.UUID, db_session: AsyncSession, services: Services
    ) -> AssistView:
        """The hand-off summary and replies grounded in the knowledge base, with their sources."""
        ticket, messages = await ticket_messages(db_session, request.user, ticket_id)
        tenant = await tenant_of(db_session, request.user)
        suggestions = await suggest_replies(services, db_session, tenant, messages)
        await db_session.commit()  # the LLM's usage, when it wrote a suggestion
        return AssistView(summarize(messages, ticket), suggestions)

    @post("/summary", status_code=200)
    async def summary(
        self,
        request: AgentRequest,
        ticket_id: uuid.UUID,
        db_session: AsyncSession,
        services: Services,
        lang: Literal["en", "pt"] = "en",
    ) -> ConversationSummary:
        """The whole conversation so far, summarized now (by the LLM when one is configured)."""
        ticket, messages = await ticket_messages(db_session, request.user, ticket_id)
        tenant = await tenant_of(db_session, request.user)
        summary = await summarize_conversation(services, db_session, tenant, ticket, messages, lang)
        await db_session.commit()  # the LLM's usage
        return summary
