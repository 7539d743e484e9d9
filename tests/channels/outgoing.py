"""Outbound messages as the delivery job hands them to an adapter, for the adapters' tests."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import msgspec

from channels.base import OutgoingMessage, outgoing_message
from channels.views import CitationView, MessageView


def outgoing(
    text: str, *attachments: dict[str, Any], citations: Sequence[dict[str, Any]] = ()
) -> OutgoingMessage:
    """A bot's message with these files (as stored: kind, path, name, type) and cited passages."""
    view = MessageView(
        id=str(uuid.uuid4()),
        conversation_id=str(uuid.uuid4()),
        direction="outbound",
        author="bot",
        text=text,
        created_at="2025-05-01T12:00:00+00:00",
        citations=[msgspec.convert({"chunk_id": "c", "score": 1.0, **c}, CitationView) for c in citations],
        content={"attachments": list(attachments)} if attachments else {},
    )
    return outgoing_message(view)
