"""Telegram channels in polling mode: one long-polling task each while the app runs."""

from __future__ import annotations

import asyncio

import structlog
from aiogram.types import Update

from channels.models import Channel
from channels.registry import channel_access, channels_of_type
from channels.telegram import TelegramAdapter, inbound_from_update, poll_channel
from conversations.receive import receive
from conversations.services import Services

log = structlog.get_logger(__name__)


async def _take(services: Services, channel: Channel, update: Update) -> None:
    inbound = inbound_from_update(update)
    if inbound is None:
        log.info("telegram.update_ignored", channel_id=str(channel.id), update_id=update.update_id)
        return
    await receive(services, channel, inbound)


class TelegramPollers:
    """One long-polling task per Telegram channel in polling mode: those stored when the app starts,
    and any an admin adds while it runs."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self._tasks: dict[str, asyncio.Task[None]] = {}

    async def start_stored(self) -> None:
        async with self._services.database.sessionmaker() as session:
            for channel in await channels_of_type(session, "telegram"):
                self.start(channel)

    def start(self, channel: Channel) -> None:
        """Polls the channel's bot, if it is in polling mode and not already polled."""
        if channel.config.get("mode") != "polling" or str(channel.id) in self._tasks:
            return
        adapter = self._services.adapters["telegram"]
        assert isinstance(adapter, TelegramAdapter)
        bot = adapter.bot(channel_access(channel, self._services.settings.resolved_secret_key()))

        async def on_update(update: Update) -> None:
            await _take(self._services, channel, update)

        task = asyncio.create_task(poll_channel(bot, on_update), name=f"telegram-poll-{channel.id}")
        self._tasks[str(channel.id)] = task
        log.info("telegram.polling", channel_id=str(channel.id))

    async def restart(self, channel: Channel) -> None:
        """With the channel's new token or mode: the old poller stops, a polling one starts again."""
        old = self._tasks.pop(str(channel.id), None)
        if old:
            old.cancel()
            await asyncio.gather(old, return_exceptions=True)
        self.start(channel)

    async def stop(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        self._tasks.clear()
