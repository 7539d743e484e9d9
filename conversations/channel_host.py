"""The pipeline as channels' routes, pollers and sessions see it (``channels.plugin.ChannelHost``)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from channels.base import InboundMessage, OwnerReply
from channels.models import Channel, DeliveryStatus
from conversations.delivery import report_status, send_here
from conversations.owner_replies import owner_replied
from conversations.receive import receive
from conversations.services import Services
from conversations.session_delivery import deliver_here
from core.leader import Leadership


class PipelineHost:
    """What the app hands every channel: messages go to ``receive``, status reports to
    ``conversations.delivery.report_status``, the business's replies from its phone to
    ``conversations.owner_replies.owner_replied``; a session's holder sends its channel's messages
    (``conversations.session_delivery.deliver_here``)."""

    def __init__(self, services: Services) -> None:
        self._services = services

    @property
    def secret_key(self) -> str:
        return self._services.settings.resolved_secret_key()

    @property
    def sessionmaker(self) -> async_sessionmaker[AsyncSession]:
        return self._services.database.sessionmaker

    @property
    def leadership(self) -> Leadership:
        return self._services.leadership

    async def receive(self, channel: Channel, inbound: InboundMessage) -> None:
        await receive(self._services, channel, inbound)

    async def report_status(
        self, channel: Channel, delivered_as: str, status: DeliveryStatus, error: str | None = None
    ) -> None:
        await report_status(self._services, channel, delivered_as, status, error)

    async def owner_replied(self, channel: Channel, reply: OwnerReply) -> None:
        await owner_replied(self._services, channel, reply)

    async def deliver_here(self, channel: Channel) -> None:
        await deliver_here(self._services, channel, send_here)
