"""Wire shapes of conversation data, shared by the API and the real-time events."""

from __future__ import annotations

from typing import Any

import msgspec

from channels.models import Message
from core.views import view_of


class CitationView(msgspec.Struct):
    document: str
    chunk_id: str
    score: float
    title: str = ""
    heading_path: str = ""
    page: int | None = None


class MessageView(msgspec.Struct):
    id: str
    conversation_id: str
    direction: str
    author: str
    text: str
    created_at: str
    citations: list[CitationView] = []
    decision: dict[str, Any] | None = None
    content: dict[str, Any] = {}
    """Media, location, contact card, the message it quotes (see channels.base.MessageContent)."""
    delivery_status: str | None = None
    delivery_error: str | None = None


def message_view(message: Message) -> MessageView:
    return view_of(MessageView, message, citations=message.citations or [], content=message.content or {})
