"""After a commit: tell the inbox, and deliver outbound messages through their channel."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import msgspec
import structlog
from sqlalchemy.orm import object_session

from channels.base import ChannelAccess, outgoing_message
from channels.models import DeliveryStatus, Message
from channels.views import MessageView, message_view
from conversations.services import Services
from core import outbox
from core.realtime import inbox_stream
from handoff.events import InboxEvent, event_type, message_created_view
from integrations.webhooks import queue_webhooks

log = structlog.get_logger(__name__)

INSTANT_CHANNELS = frozenset({"webchat"})
"""Delivered by publishing to the open page: nothing to retry, no job needed."""


@dataclass(frozen=True)
class Outgoing:
    """What delivering a stored message needs, captured inside the transaction that wrote it."""

    tenant_id: uuid.UUID
    channel_id: uuid.UUID
    channel_type: str
    contact_external_id: str
    message: MessageView

    @classmethod
    def of(cls, message: Message, channel_type: str, contact_external_id: str) -> Outgoing:
        """On an external channel the message is marked pending here and its outbox job added, in the
        transaction that writes it (the session it belongs to), so a crash before the delivery job
        runs leaves it to the outbox's sweep, not lost."""
        if channel_type not in INSTANT_CHANNELS:
            message.delivery_status = DeliveryStatus.PENDING
            session = object_session(message)
            if session is None:
                raise RuntimeError("a message to deliver is made in the session that writes it")
            session.add(outbox.new_job(message.tenant_id, outbox.JobKind.MESSAGE, message.id))
        view = message_view(message)
        return cls(message.tenant_id, message.channel_id, channel_type, contact_external_id, view)


async def publish_inbox(services: Services, tenant_id: uuid.UUID, event: InboxEvent) -> None:
    """Only to the tenant's open inbox pages: for courtesies (typing) that webhooks never hear."""
    await services.publisher.publish(inbox_stream(tenant_id), msgspec.to_builtins(event))


async def notify_inbox(services: Services, tenant_id: uuid.UUID, event: InboxEvent) -> None:
    """Tell the tenant's inbox, and queue the event for its webhook subscribers (see integrations.webhooks)."""
    await publish_inbox(services, tenant_id, event)
    try:
        delivery_ids = await queue_webhooks(services, tenant_id, event)
    except Exception as exc:  # what was committed stays committed; the caller's work is done
        log.error(
            "webhook.queue_failed", event_type=event_type(event), error=type(exc).__name__, exc_info=exc
        )
        return
    for delivery_id in delivery_ids:
        await services.jobs.deliver_webhook(delivery_id)


async def send_outgoing(services: Services, outgoing: Outgoing) -> None:
    """Show the message in the inbox and deliver it to the customer on its channel."""
    await notify_inbox(services, outgoing.tenant_id, message_created_view(outgoing.message))
    if outgoing.channel_type not in INSTANT_CHANNELS:
        await services.jobs.deliver_message(uuid.UUID(outgoing.message.id))
        return
    channel = ChannelAccess(outgoing.channel_id, outgoing.tenant_id, outgoing.channel_type, {}, {})
    await services.adapters[outgoing.channel_type].deliver(
        channel, outgoing.contact_external_id, outgoing_message(outgoing.message)
    )
