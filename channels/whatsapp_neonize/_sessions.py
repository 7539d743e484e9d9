"""The WhatsApp (QR code) channels' lifecycle: one neonize session each while the app runs.

Messages go through the same pipeline as every channel (stored once per WhatsApp id, then a turn);
what the business itself sends a customer from its phone is a person taking over (``owner_replied``);
receipts move the status of the messages Atende sent. A channel added while the app runs starts when
an admin opens its pairing (``ask_for_pairing``), the others when the app starts. With several
processes, one runs each session (``channels.leading``) and sends the channel's replies, which
workers hand to it (``ChannelHost.deliver_here``); the pairing view shows the session of the process
it reaches, so pair with one web process running, or reach the one that leads.
"""

from __future__ import annotations

import asyncio
import uuid

import structlog
from neonize.aioze.events import MessageEv, ReceiptEv

from channels.leading import LedTasks
from channels.models import Channel
from channels.plugin import ChannelHost
from channels.stored import channel_access, channels_of_type
from channels.whatsapp_neonize._adapter import NeonizeAdapter, Pairing
from channels.whatsapp_neonize._mapping import (
    inbound_from_event,
    owner_reply_from_event,
    statuses_from_receipt,
)
from core.leader import Work

log = structlog.get_logger(__name__)


class NeonizeSessions:
    def __init__(self, host: ChannelHost, adapter: NeonizeAdapter) -> None:
        self._host = host
        self._adapter = adapter
        self._sessions = LedTasks("whatsapp-neonize", host.leadership)

    async def start(self) -> None:
        """Every whatsapp-neonize channel's session (the adapter stops them when the services close)."""
        async with self._host.sessionmaker() as session:
            channels = await channels_of_type(session, "whatsapp-neonize")
        for channel in channels:
            self._run(channel)

    async def added(self, channel: Channel) -> None:
        """Nothing yet: its session starts when an admin asks to pair it."""

    async def changed(self, channel: Channel) -> None:
        """Nothing: a QR code channel has no settings to change."""

    async def stop(self) -> None:
        """The sessions stop, and their leases go to other processes."""
        await self._sessions.stop()

    def pairing(self, channel_id: uuid.UUID) -> Pairing:
        """The channel's session as the admin's pairing view shows it."""
        return self._adapter.pairing(channel_id)

    def ask_for_pairing(self, channel: Channel) -> Pairing:
        """The admin wants to pair: the session starts here if it does not run, and one that is logged
        out, or whose QR codes ran out, starts again with a fresh code."""
        if not self._adapter.is_running(channel.id):
            self._run(channel)
            return Pairing("connecting")  # starting (in a moment, or in the process that leads it)
        self._adapter.request_pairing(channel.id)
        return self._adapter.pairing(channel.id)

    def _run(self, channel: Channel) -> None:
        """Run the channel's session whenever this process leads it, if it does not take part yet."""
        self._sessions.run(channel.id, self._session(channel))

    def _session(self, channel: Channel) -> Work:
        access = channel_access(channel, self._host.secret_key)

        async def on_message(event: MessageEv) -> None:
            reply = owner_reply_from_event(event)
            if reply is not None and not self._adapter.sent_here(channel.id, reply.channel_message_id):
                await self._host.owner_replied(channel, reply)
                return
            inbound = inbound_from_event(event)
            if inbound is None:
                log.info(
                    "whatsapp_neonize.message_ignored", channel_id=str(channel.id), message_id=event.Info.ID
                )
                return
            await self._host.receive(channel, inbound)

        async def on_receipt(event: ReceiptEv) -> None:
            for delivered_as, status in statuses_from_receipt(event):
                await self._host.report_status(channel, delivered_as, status)

        async def session() -> None:
            log.info("whatsapp_neonize.session_started", channel_id=str(channel.id))
            async with asyncio.TaskGroup() as group:

                def send_from_here() -> None:  # once the session can send, or can say why it cannot
                    group.create_task(self._host.deliver_here(channel))

                await self._adapter.run(access, on_message, on_receipt, on_ready=send_from_here)

        return session
