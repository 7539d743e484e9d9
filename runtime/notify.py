"""After a commit: tell the inbox, and deliver outbound messages through their channel."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import msgspec
import structlog

from channels.models import Message
from channels.views import message_view
from runtime.events import inbox_stream
from runtime.services import Services

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Outgoing:
    """What delivering a stored message needs, captured inside the transaction that wrote it."""

    tenant_id: uuid.UUID
    channel_type: str
    contact_external_id: str
    message: dict[str, Any]

    @classmethod
    def of(cls, message: Message, channel_type: str, contact_external_id: str) -> Outgoing:
        view: dict[str, Any] = msgspec.to_builtins(message_view(message))
        return cls(message.tenant_id, channel_type, contact_external_id, view)


async def notify_inbox(services: Services, tenant_id: uuid.UUID, event: dict[str, Any]) -> None:
    await services.publisher.publish(inbox_stream(tenant_id), event)


async def send_outgoing(services: Services, outgoing: Outgoing) -> None:
    """Show the message in the inbox and deliver it to the customer on its channel."""
    await notify_inbox(
        services,
        outgoing.tenant_id,
        {
            "type": "message.created",
            "conversation_id": outgoing.message["conversation_id"],
            "message": outgoing.message,
        },
    )
    adapter = services.adapters.get(outgoing.channel_type)
    if adapter is None:
        log.warning("delivery.no_adapter", channel=outgoing.channel_type)
        return
    await adapter.deliver(str(outgoing.tenant_id), outgoing.contact_external_id, outgoing.message)
