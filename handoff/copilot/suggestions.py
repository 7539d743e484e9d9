"""AI help for the agent who takes a ticket: what the conversation is about, and replies grounded in the
knowledge base (with their sources) to insert, edit and send.

Offline the summary is read off the bot's decision records and the suggestions are sentences taken
from the best passages of the two most relevant documents; with an LLM the first suggestion is a
grounded, cited reply written by it (the same generation the bot uses).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from agents.answerer import extractive_answer
from agents.generation import generate_grounded
from agents.guardrails import new_canary
from agents.llm import LLMError
from agents.state import Citation
from agents.tenant_context import AgentResources, build_agent_context
from agents.usage import record_usage
from channels.models import Author, Direction, Message
from core.accounts import Tenant
from handoff.models import Ticket

log = structlog.get_logger(__name__)
NOT_A_REQUEST = {"greeting", "thanks", "goodbye", "human_agent"}
SUGGESTIONS = 2


@dataclass
class HandoffSummary:
    wants: str
    """The customer's last real request, in their words."""
    bot_tried: list[str]
    escalated_because: str
    intent: str | None = None
    sentiment: str | None = None
    churn_risk: float | None = None
    churn_reasons: list[str] = field(default_factory=list)


@dataclass
class Suggestion:
    text: str
    citations: list[Citation]
    source: str
    """``knowledge base`` (sentences taken from it) or the LLM's model name."""


def _classification(message: Message) -> dict[str, Any]:
    return dict((message.decision or {}).get("classification") or {})


def customer_request(messages: list[Message]) -> Message | None:
    """The customer's last message that asks for something (not a hello, thanks or "a person, please")."""
    said = [m for m in messages if m.direction == Direction.INBOUND and m.text.strip()]
    asking = [m for m in said if _classification(m).get("intent") not in NOT_A_REQUEST]
    pool = asking or said
    return pool[-1] if pool else None


def summarize(messages: list[Message], ticket: Ticket) -> HandoffSummary:
    request = customer_request(messages)
    tried = []
    for reply in (m for m in messages if m.author == Author.BOT):
        documents = sorted({c.get("title") or c["document"] for c in reply.citations or []})
        if documents:
            tried.append(f"answered from {', '.join(documents)}: “{reply.text[:160]}”")
    inbound = [m for m in messages if m.direction == Direction.INBOUND and _classification(m)]
    latest = _classification(inbound[-1]) if inbound else {}
    return HandoffSummary(
        wants=request.text[:400] if request else "",
        bot_tried=tried or ["found nothing in the knowledge base to answer with"],
        escalated_because=ticket.reason,
        intent=latest.get("intent"),
        sentiment=latest.get("sentiment"),
        churn_risk=latest.get("churn_risk"),
        churn_reasons=list(latest.get("churn_reasons") or []),
    )


async def suggest_replies(
    resources: AgentResources, session: AsyncSession, tenant: Tenant, messages: list[Message]
) -> list[Suggestion]:
    request = customer_request(messages)
    if request is None:
        return []
    context = await build_agent_context(resources, session, tenant)
    passages = [
        p
        for p in await context.search(request.text, await context.vector(request.text))
        if p.relevance >= context.min_relevance
    ]
    passages.sort(key=lambda p: p.relevance, reverse=True)
    suggestions: list[Suggestion] = []
    if context.llm is not None and passages:
        try:
            generated = await generate_grounded(
                context.llm,
                company=context.company,
                language=_classification(request).get("language", "pt"),
                question=request.text,
                transcript=[],
                passages=passages[:4],
                canary=new_canary(),
            )
            record_usage(
                session,
                tenant.id,
                request.conversation_id,
                {**generated.usage.as_dict(), "purpose": "suggestion"},
            )
            if generated.answerable and not generated.blocked:
                suggestions.append(
                    Suggestion(generated.text, [Citation.of(p) for p in generated.cited], "llm")
                )
        except LLMError as exc:
            log.info("assist.llm_failed", error=type(exc).__name__)
    documents = list(dict.fromkeys(p.document for p in passages))
    for document in documents[:SUGGESTIONS]:
        own = [p for p in passages if p.document == document]
        answer = await extractive_answer(request.text, own, context.embedder)
        if answer.text and all(answer.text != s.text for s in suggestions):
            suggestions.append(
                Suggestion(answer.text, [Citation.of(p) for p in answer.passages], "knowledge base")
            )
    return suggestions
