"""Every channel Atende speaks, in one list. The services make their adapters, the app mounts their
routes and runs their lifecycles, the admin checks their settings: a new channel is a folder and one
line here (see docs/architecture.md, "Adding a channel")."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from channels import telegram, webchat, whatsapp_cloud, whatsapp_neonize
from channels.base import ChannelAdapter
from channels.models import Channel
from channels.plugin import ChannelHost, ChannelLifecycle, ChannelPlugin

PLUGINS: tuple[ChannelPlugin[Any], ...] = (
    webchat.PLUGIN,
    telegram.PLUGIN,
    whatsapp_cloud.PLUGIN,
    whatsapp_neonize.PLUGIN,
)


def plugin_for(channel_type: str) -> ChannelPlugin[Any] | None:
    return next((plugin for plugin in PLUGINS if plugin.type == channel_type), None)


Lifecycle = TypeVar("Lifecycle", bound=ChannelLifecycle)


class ChannelLifecycles:
    """The lifecycles of the channel types that have one, while the app runs."""

    def __init__(self, host: ChannelHost, adapters: Mapping[str, ChannelAdapter]) -> None:
        self._lifecycles = {
            plugin.type: plugin.lifecycle(host, adapters[plugin.type])
            for plugin in PLUGINS
            if plugin.lifecycle
        }

    async def start(self) -> None:
        for lifecycle in self._lifecycles.values():
            await lifecycle.start()

    async def added(self, channel: Channel) -> None:
        if lifecycle := self._lifecycles.get(channel.type):
            await lifecycle.added(channel)

    async def changed(self, channel: Channel) -> None:
        if lifecycle := self._lifecycles.get(channel.type):
            await lifecycle.changed(channel)

    async def stop(self) -> None:
        for lifecycle in self._lifecycles.values():
            await lifecycle.stop()

    def of(self, kind: type[Lifecycle]) -> Lifecycle:
        """The running lifecycle of that class (``NeonizeSessions`` for the admin's pairing view)."""
        return next(lc for lc in self._lifecycles.values() if isinstance(lc, kind))


def webhook_for(channel: Channel) -> str | None:
    """Where the channel's provider must send its updates; None: it polls, or has no webhook."""
    plugin = plugin_for(channel.type)
    return plugin.webhook_for(channel) if plugin else None
