"""Outbound text for channels that show plain text: the reply, then the sources it cites."""

from __future__ import annotations

from channels.base import OutgoingMessage


def text_with_sources(message: OutgoingMessage) -> str:
    """The web chat shows citations beside the reply; elsewhere they follow it, one per line."""
    seen: dict[str, None] = {}
    for citation in message.citations:
        seen.setdefault(citation.title or citation.document, None)
    if not seen:
        return message.text
    return message.text + "\n\n" + "\n".join(f"📄 {title}" for title in seen)
