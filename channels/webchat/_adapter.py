"""Web chat delivery: the message is already stored; the page only needs to hear of it."""

from __future__ import annotations

from typing import Any

import msgspec

from channels.base import ChannelAccess, OutgoingMessage, Publisher


def session_stream(tenant_id: str, session_id: str) -> str:
    return f"webchat:{tenant_id}:{session_id}"


def page_message(message: OutgoingMessage) -> dict[str, Any]:
    """What the chat page shows of a message: its view as the inbox has it, without the bot's decision."""
    view: dict[str, Any] = msgspec.to_builtins(message.view)
    return {key: value for key, value in view.items() if key != "decision"}


class WebChatAdapter:
    type = "webchat"

    def __init__(self, publisher: Publisher) -> None:
        self._publisher = publisher

    async def deliver(
        self, channel: ChannelAccess, contact_external_id: str, message: OutgoingMessage
    ) -> str | None:
        await self._publisher.publish(
            session_stream(str(channel.tenant_id), contact_external_id),
            {"type": "message.created", "message": page_message(message)},
        )
        return None

    async def deliver_partial(
        self, tenant_id: str, contact_external_id: str, reply_to: str, text: str
    ) -> None:
        await self._publisher.publish(
            session_stream(tenant_id, contact_external_id),
            {"type": "reply.delta", "reply_to": reply_to, "text": text},
        )

    async def show_typing(self, channel: ChannelAccess, contact_external_id: str) -> None:
        await self._publisher.publish(
            session_stream(str(channel.tenant_id), contact_external_id), {"type": "typing", "who": "agent"}
        )
