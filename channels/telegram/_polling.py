"""Long polling for a bot without a public address: getUpdates in a loop, backing off on errors; one
polling task per Telegram channel in polling mode while the app runs."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog
from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import Update
from aiogram.utils.backoff import Backoff, BackoffConfig

from channels.models import Channel
from channels.plugin import ChannelHost
from channels.stored import channel_access, channels_of_type
from channels.telegram._adapter import TelegramAdapter
from channels.telegram._mapping import inbound_from_update
from channels.telegram._settings import polls

log = structlog.get_logger(__name__)

POLL_SECONDS = 25
BACKOFF = BackoffConfig(min_delay=1.0, max_delay=30.0, factor=1.5, jitter=0.1)


async def poll_channel(bot: Bot, on_update: Callable[[Update], Awaitable[None]]) -> None:
    """Runs until cancelled. An update is confirmed (the next offset) only once ``on_update`` took it;
    taking one twice is harmless, as messages are stored once per Telegram id."""
    await bot.delete_webhook()  # Telegram refuses getUpdates while a webhook is set
    backoff = Backoff(BACKOFF)
    offset: int | None = None
    while True:
        try:
            updates = await bot.get_updates(offset=offset, timeout=POLL_SECONDS)
        except TelegramAPIError as exc:
            log.warning(
                "telegram.poll_failed", error=type(exc).__name__, retry_in=round(backoff.next_delay, 1)
            )
            await backoff.asleep()
            continue
        backoff.reset()
        for update in updates:
            await on_update(update)
            offset = update.update_id + 1


class TelegramPollers:
    """The Telegram channels' lifecycle: one long-polling task per channel in polling mode, for those
    stored when the app starts and any an admin adds while it runs."""

    def __init__(self, host: ChannelHost, adapter: TelegramAdapter) -> None:
        self._host = host
        self._adapter = adapter
        self._tasks: dict[str, asyncio.Task[None]] = {}

    async def start(self) -> None:
        async with self._host.sessionmaker() as session:
            channels = await channels_of_type(session, "telegram")
        for channel in channels:
            self._poll(channel)

    async def added(self, channel: Channel) -> None:
        self._poll(channel)  # polling mode: from now, not at restart

    async def changed(self, channel: Channel) -> None:
        """With the channel's new token or mode: the old poller stops, a polling one starts again."""
        old = self._tasks.pop(str(channel.id), None)
        if old:
            old.cancel()
            await asyncio.gather(old, return_exceptions=True)
        self._poll(channel)

    async def stop(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        self._tasks.clear()

    def _poll(self, channel: Channel) -> None:
        """Polls the channel's bot, if it is in polling mode and not already polled."""
        if not polls(channel.config) or str(channel.id) in self._tasks:
            return
        bot = self._adapter.bot(channel_access(channel, self._host.secret_key))

        async def on_update(update: Update) -> None:
            inbound = inbound_from_update(update)
            if inbound is None:
                log.info("telegram.update_ignored", channel_id=str(channel.id), update_id=update.update_id)
                return
            await self._host.receive(channel, inbound)

        task = asyncio.create_task(poll_channel(bot, on_update), name=f"telegram-poll-{channel.id}")
        self._tasks[str(channel.id)] = task
        log.info("telegram.polling", channel_id=str(channel.id))
