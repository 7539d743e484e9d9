"""What the web chat shows before the customer writes: who answers, what it can answer, that a person can.

Not a message: nothing is stored, so conversations, transcripts and evals stay as the customer wrote them.
The topics are the titles of the tenant's knowledge documents (those the bot can answer from), the
ones in the customer's language first.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from knowledge.models import Document, DocumentStatus

LANGUAGES = ("pt", "en", "es")
"""The languages the welcome speaks; Portuguese when the customer's is none of them."""

MOST_TOPICS = 5
LONGEST_TOPIC = 80
"""Characters of a document title shown as a topic; a longer one is cut with an ellipsis."""

_TEXTS: dict[str, dict[str, str]] = {
    "hello": {
        "pt": "Olá! Sou o assistente virtual de {company}.",
        "en": "Hi! I'm the virtual assistant of {company}.",
        "es": "¡Hola! Soy el asistente virtual de {company}.",
    },
    "topics": {
        "pt": "Posso responder sobre:",
        "en": "I can answer questions about:",
        "es": "Puedo responder sobre:",
    },
    "more": {"pt": "e outros assuntos", "en": "and more", "es": "y otros temas"},
    "no_topics": {"pt": "Como posso ajudar?", "en": "How can I help?", "es": "¿En qué puedo ayudarte?"},
    "human": {
        "pt": "Se preferir falar com um atendente, é só pedir.",
        "en": "If you'd rather talk to a person, just ask.",
        "es": "Si prefieres hablar con un agente, solo pídelo.",
    },
}


@dataclass(frozen=True)
class Welcome:
    """Plain text: the page escapes it (the company's name and the titles are tenant input)."""

    language: str
    hello: str
    topics_intro: str
    """"I can answer questions about:" before the topics, or "How can I help?" when there are none."""
    topics: list[str]
    more: str
    """Said after the topics when there are more than shown; empty otherwise."""
    human: str


async def topic_titles(
    session: AsyncSession, tenant_id: uuid.UUID, language: str, limit: int = MOST_TOPICS
) -> tuple[list[str], bool]:
    """Up to ``limit`` distinct titles of the tenant's answerable documents (in ``language`` first,
    then by title), and whether there are more."""
    in_language = func.bool_or(Document.language == language)
    rows = await session.scalars(
        select(Document.title)
        .where(
            Document.tenant_id == tenant_id,
            Document.status == DocumentStatus.EMBEDDED,
            func.trim(Document.title) != "",
        )
        .group_by(Document.title)
        .order_by(in_language.desc(), Document.title)
        .limit(limit + 1)
    )
    titles = [title.strip() for title in rows]
    shown = [t if len(t) <= LONGEST_TOPIC else t[: LONGEST_TOPIC - 1].rstrip() + "…" for t in titles[:limit]]
    return shown, len(titles) > limit


async def chat_welcome(session: AsyncSession, tenant_id: uuid.UUID, company: str, language: str) -> Welcome:
    language = language if language in LANGUAGES else "pt"
    topics, more = await topic_titles(session, tenant_id, language)
    text = {key: texts[language] for key, texts in _TEXTS.items()}
    return Welcome(
        language=language,
        hello=text["hello"].format(company=company),
        topics_intro=text["topics"] if topics else text["no_topics"],
        topics=topics,
        more=text["more"] if more else "",
        human=text["human"],
    )
