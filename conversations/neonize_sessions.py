"""WhatsApp channels paired by QR code: one neonize session each while the app runs.

Messages go through the same pipeline as every channel (stored once per WhatsApp id, then a turn);
receipts move the status of the messages Atende sent. A channel added while the app runs starts when
an admin opens its pairing (``start_neonize_session``), the others when the app starts.
"""

from __future__ import annotations

import uuid

import structlog
from neonize.aioze.events import MessageEv, ReceiptEv
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from channels.models import Channel
from channels.registry import channel_access, channels_of_type
from channels.whatsapp_neonize import NeonizeAdapter, Pairing, inbound_from_event, statuses_from_receipt
from conversations.delivery import report_status
from conversations.receive import receive
from conversations.services import Services
from core.errors import NotFoundError

log = structlog.get_logger(__name__)


def neonize_adapter(services: Services) -> NeonizeAdapter:
    adapter = services.adapters["whatsapp-neonize"]
    assert isinstance(adapter, NeonizeAdapter)
    return adapter


async def _take_message(services: Services, channel: Channel, event: MessageEv) -> None:
    inbound = inbound_from_event(event)
    if inbound is None:
        log.info("whatsapp_neonize.message_ignored", channel_id=str(channel.id), message_id=event.Info.ID)
        return
    await receive(services, channel, inbound)


async def _take_receipt(services: Services, channel: Channel, event: ReceiptEv) -> None:
    for delivered_as, status in statuses_from_receipt(event):
        await report_status(services, channel, delivered_as, status)


def start_neonize_session(services: Services, channel: Channel) -> None:
    """Run the channel's session in this process, if it does not run yet."""
    access = channel_access(channel, services.settings.resolved_secret_key())

    async def on_message(event: MessageEv) -> None:
        await _take_message(services, channel, event)

    async def on_receipt(event: ReceiptEv) -> None:
        await _take_receipt(services, channel, event)

    neonize_adapter(services).start(access, on_message, on_receipt)


async def start_neonize_sessions(services: Services) -> int:
    """Every whatsapp-neonize channel's session (the adapter stops them when the services close)."""
    async with services.database.sessionmaker() as session:
        channels = await channels_of_type(session, "whatsapp-neonize")
    for channel in channels:
        start_neonize_session(services, channel)
        log.info("whatsapp_neonize.session_started", channel_id=str(channel.id))
    return len(channels)


async def neonize_channel(session: AsyncSession, tenant_id: uuid.UUID, channel_id: uuid.UUID) -> Channel:
    """The tenant's whatsapp-neonize channel; another tenant's channel, or another type, is the same 404."""
    channel = await session.scalar(
        select(Channel).where(
            Channel.id == channel_id, Channel.tenant_id == tenant_id, Channel.type == "whatsapp-neonize"
        )
    )
    if channel is None:
        raise NotFoundError(f"no whatsapp-neonize channel {channel_id}")
    return channel


def ask_for_pairing(services: Services, channel: Channel) -> Pairing:
    """The admin wants to pair: the session starts here if it does not run, and one that is logged
    out, or whose QR codes ran out, starts again with a fresh code."""
    adapter = neonize_adapter(services)
    start_neonize_session(services, channel)
    adapter.request_pairing(channel.id)
    return adapter.pairing(channel.id)
