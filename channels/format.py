"""Outbound text for channels that show plain text: the reply, then the sources it cites."""

from __future__ import annotations

from typing import Any


def text_with_sources(message: dict[str, Any]) -> str:
    """The web chat shows citations beside the reply; elsewhere they follow it, one per line."""
    seen: dict[str, None] = {}
    for citation in message.get("citations") or []:
        seen.setdefault(citation.get("title") or citation["document"], None)
    if not seen:
        return str(message["text"])
    return str(message["text"]) + "\n\n" + "\n".join(f"📄 {title}" for title in seen)
