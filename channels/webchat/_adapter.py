"""Web chat delivery: the message is already stored; the page only needs to hear of it."""

from __future__ import annotations

from typing import Any

from channels.base import ChannelAccess, Publisher


def session_stream(tenant_id: str, session_id: str) -> str:
    return f"webchat:{tenant_id}:{session_id}"


class WebChatAdapter:
    type = "webchat"

    def __init__(self, publisher: Publisher) -> None:
        self._publisher = publisher

    async def deliver(
        self, channel: ChannelAccess, contact_external_id: str, message: dict[str, Any]
    ) -> str | None:
        await self._publisher.publish(
            session_stream(str(channel.tenant_id), contact_external_id),
            {"type": "message.created", "message": {k: v for k, v in message.items() if k != "decision"}},
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
