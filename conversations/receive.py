"""A customer's message arrives: stored once (idempotent on the channel's id), shown in the inbox, and
its turn enqueued. Every channel, poller and route comes in through here."""

from __future__ import annotations

import uuid
from typing import NamedTuple

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import InboundMessage
from channels.models import Channel, Message
from channels.service import get_or_create_channel, get_or_create_conversation, store_inbound
from conversations.notify import notify_inbox
from conversations.services import Services
from conversations.spans import mark_received, receive_span
from core.accounts import Tenant
from handoff.events import message_created

log = structlog.get_logger(__name__)


class Received(NamedTuple):
    message_id: uuid.UUID
    created: bool
    """False when the channel sent the same message again: nothing was stored and no turn runs."""


async def receive(services: Services, channel: Channel, inbound: InboundMessage) -> Received:
    """Store the message, tell the inbox, and enqueue its turn; a duplicate is only logged.

    Traced: the turn's job carries this span, so the worker's turn continues its trace."""
    with receive_span(channel.tenant_id, channel.type) as span:
        received = await accept(services, channel, inbound)
        mark_received(span, received.message_id, received.created)
        if received.created:
            await services.jobs.run_turn(received.message_id)
    return received


async def receive_on_default_channel(
    services: Services, tenant: Tenant, channel_type: str, inbound: InboundMessage
) -> Received:
    """The same, on the tenant's one channel of a type that needs no set-up (the web chat)."""
    with receive_span(tenant.id, channel_type) as span:
        received = await accept_on_default_channel(services, tenant, channel_type, inbound)
        mark_received(span, received.message_id, received.created)
        if received.created:
            await services.jobs.run_turn(received.message_id)
    return received


async def accept(services: Services, channel: Channel, inbound: InboundMessage) -> Received:
    """Store and announce without enqueueing: for a caller that runs the turn itself (``atende chat``)."""
    async with services.database.sessionmaker.begin() as session:
        message, created = await _store(session, channel, inbound)
    return await _announce(services, channel, message, created)


async def accept_on_default_channel(
    services: Services, tenant: Tenant, channel_type: str, inbound: InboundMessage
) -> Received:
    async with services.database.sessionmaker.begin() as session:
        channel = await get_or_create_channel(session, tenant.id, channel_type)
        message, created = await _store(session, channel, inbound)
    return await _announce(services, channel, message, created)


async def _store(session: AsyncSession, channel: Channel, inbound: InboundMessage) -> tuple[Message, bool]:
    _, conversation = await get_or_create_conversation(
        session, channel, inbound.contact_external_id, inbound.contact_name
    )
    return await store_inbound(session, channel, conversation, inbound)


async def _announce(services: Services, channel: Channel, message: Message, created: bool) -> Received:
    """After the commit: the inbox hears of a new message; a duplicate is only logged."""
    log_fields = {"tenant_id": str(channel.tenant_id), "channel": channel.type, "message_id": str(message.id)}
    if created:
        log.info("inbound.stored", **log_fields)
        await notify_inbox(services, channel.tenant_id, message_created(message))
    else:
        log.info("inbound.duplicate", **log_fields)
    return Received(message.id, created)
