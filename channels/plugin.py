"""What a channel is to the rest of Atende: one ``ChannelPlugin`` per channel folder.

A plugin names its settings (checked when an admin adds or changes a channel), makes its adapter,
and may bring the routes a provider calls (webhooks) and a lifecycle that runs while the app runs
(pollers, sessions). ``channels/plugins.py`` lists every plugin; the services, the app and the
admin read that list. Routes and lifecycles reach the pipeline, a floor above, through the
``ChannelHost`` the app hands them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, Protocol, TypeVar, runtime_checkable

import msgspec
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from channels.base import ChannelAccess, ChannelAdapter, InboundMessage, OwnerReply, Publisher
from channels.media_store import MediaStore
from channels.models import Channel, DeliveryStatus
from channels.setting_fields import SettingField, setting_fields
from channels.stored import channel_access, channel_for_webhook
from core.leader import Leadership


@runtime_checkable
class ChannelHost(Protocol):
    """What a channel's routes, pollers and sessions need of the running app: the pipeline behind
    them (``conversations.channel_host``). Routes take it as the ``channel_host`` dependency."""

    @property
    def secret_key(self) -> str:
        """Decrypts the stored channels' credentials (``channels.stored.channel_access``)."""
        ...

    @property
    def sessionmaker(self) -> async_sessionmaker[AsyncSession]:
        """To find the channel a request or a poller is for."""
        ...

    @property
    def leadership(self) -> Leadership:
        """Which process of the cluster runs a channel's poller or session (``channels.leading``)."""
        ...

    async def receive(self, channel: Channel, inbound: InboundMessage) -> None:
        """A customer's message: stored once (per the channel's message id), shown in the inbox,
        answered by a job."""
        ...

    async def report_status(
        self, channel: Channel, delivered_as: str, status: DeliveryStatus, error: str | None = None
    ) -> None:
        """The channel's word on a message it took (``delivered_as``): delivered, read, failed."""
        ...

    async def owner_replied(self, channel: Channel, reply: OwnerReply) -> None:
        """The business answered a customer from its own phone: stored as a person's reply, the bot
        stops answering that conversation and its ticket opens. An echo of a message Atende sent, or
        the same message twice, changes nothing."""
        ...

    async def deliver_here(self, channel: Channel) -> None:
        """While this process holds the channel's session, until cancelled: the channel's outbound
        messages are sent from here (workers hand them over); returns at once on embedded defaults,
        where every job runs in this one process."""
        ...


async def webhook_channel(
    host: ChannelHost, channel_id: uuid.UUID, type_: str
) -> tuple[Channel, ChannelAccess]:
    """The channel a webhook URL names (unknown ids and other types are the same 404), with its
    credentials opened to check the call."""
    async with host.sessionmaker() as session:
        channel = await channel_for_webhook(session, channel_id, type_)
    return channel, channel_access(channel, host.secret_key)


class ChannelLifecycle(Protocol):
    """What a channel runs while the app runs (long polling, a connected session)."""

    async def start(self) -> None:
        """At the app's start: for every stored channel of the type."""
        ...

    async def added(self, channel: Channel) -> None:
        """An admin added a channel of the type while the app runs."""
        ...

    async def changed(self, channel: Channel) -> None:
        """An admin changed one (a new token, another mode)."""
        ...

    async def stop(self) -> None:
        """At the app's end."""
        ...


@dataclass(frozen=True)
class AdapterResources:
    """What adapters are made with: the media store, real-time fan-out, the data dir, and whether the
    servers a tenant names (an ``api_base``) may be private (``core.url_guard``)."""

    media: MediaStore
    publisher: Publisher
    data_dir: Path
    allow_private_networks: bool = False


@dataclass(frozen=True)
class ChannelSettings:
    """How an admin sets a channel of a type up, besides its type and name."""

    title: str
    """The type as the admin reads it ("WhatsApp Cloud API")."""
    schema: type[msgspec.Struct]
    """Its settings: a field without a default is required; others are refused. Further checks go
    in the Struct's ``__post_init__`` (raising ``core.errors.InvalidInputError``). The admin's form
    and ``atende channel add`` are drawn from it (``channels.setting_fields``)."""

    @property
    def fields(self) -> tuple[SettingField, ...]:
        return setting_fields(self.schema)

    @property
    def secrets(self) -> tuple[str, ...]:
        """The fields stored encrypted and shown masked; the others are kept in the clear (``config``)."""
        return tuple(field.name for field in self.fields if field.kind == "secret")


Adapter = TypeVar("Adapter", bound=ChannelAdapter)


@dataclass(frozen=True, kw_only=True)
class ChannelPlugin(Generic[Adapter]):
    """One channel: its type, settings, adapter, routes and lifecycle."""

    type: str
    make_adapter: Callable[[AdapterResources], Adapter]
    settings: ChannelSettings | None = None
    """None: nothing to set up (the web chat: the tenant's one channel is made when first used)."""
    route_handlers: Sequence[ControllerRouterHandler] = ()
    """What the provider calls (webhooks); they take the ``channel_host`` dependency."""
    webhook_path: str | None = None
    """Where the provider sends updates, ``{id}`` standing for the channel's id (the admin shows it)."""
    polls: Callable[[Mapping[str, object]], bool] = lambda config: False
    """Whether a channel with these settings fetches its updates instead (then it has no webhook)."""
    lifecycle: Callable[[ChannelHost, Adapter], ChannelLifecycle] | None = None
    """Made once the services are open, with the adapter the services hold."""

    def webhook_for(self, channel: Channel) -> str | None:
        """Where the provider must send this channel's updates; None: it polls, or has no webhook."""
        if self.webhook_path is None or self.polls(channel.config):
            return None
        return self.webhook_path.format(id=channel.id)
