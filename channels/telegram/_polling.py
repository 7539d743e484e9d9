"""Long polling for a bot without a public address: getUpdates in a loop, backing off on errors; one
polling task per Telegram channel in polling mode while the app runs."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

import structlog
from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import Update
from aiogram.utils.backoff import Backoff, BackoffConfig

from channels.leading import LedTasks
from channels.models import Channel
from channels.plugin import ChannelHost
from channels.stored import channel_access, channel_of_type, channels_of_type
from channels.telegram._adapter import TelegramAdapter
from channels.telegram._mapping import inbound_from_update
from channels.telegram._settings import polls
from core.leader import Work

log = structlog.get_logger(__name__)

POLL_SECONDS = 25
LOOK_FOR_NEW_SECONDS = 60
"""How often a process looks for polling channels another process added (to take part in their lease)."""
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
    stored when the app starts, any an admin adds while it runs, and those another process added
    (looked for every ``LOOK_FOR_NEW_SECONDS``). With several processes, one polls each bot
    (``channels.leading``)."""

    def __init__(self, host: ChannelHost, adapter: TelegramAdapter) -> None:
        self._host = host
        self._adapter = adapter
        self._pollers = LedTasks("telegram", host.leadership)
        self._looking: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._poll_new()
        self._looking = asyncio.create_task(self._look_for_new(), name="telegram-look-for-new")

    async def added(self, channel: Channel) -> None:
        if polls(channel.config):  # from now, not at restart
            self._pollers.run(channel.id, self._polling(channel.id))

    async def changed(self, channel: Channel) -> None:
        """With the channel's new token or mode: the old poller stops (in whichever process runs it),
        and a polling one starts again (one in webhook mode ends at once)."""
        await self._pollers.restart(channel.id, self._polling(channel.id))

    async def stop(self) -> None:
        if self._looking:
            self._looking.cancel()
            await asyncio.gather(self._looking, return_exceptions=True)
        await self._pollers.stop()

    async def _poll_new(self) -> None:
        async with self._host.sessionmaker() as session:
            channels = await channels_of_type(session, "telegram")
        for channel in channels:
            if polls(channel.config) and not self._pollers.has(channel.id):
                self._pollers.run(channel.id, self._polling(channel.id))

    async def _look_for_new(self) -> None:
        while True:
            await asyncio.sleep(LOOK_FOR_NEW_SECONDS)
            try:
                await self._poll_new()
            except Exception as exc:  # the database is away: look again later
                log.warning("telegram.look_for_new_failed", error=type(exc).__name__)

    def _polling(self, channel_id: uuid.UUID) -> Work:
        """What this process runs while it leads the channel: the channel is read afresh (another
        process may have changed its token), then its bot polled until the lease is lost."""

        async def poll() -> None:
            async with self._host.sessionmaker() as session:
                channel = await channel_of_type(session, channel_id, "telegram")
            if channel is None or not polls(channel.config):
                return  # a webhook now: nothing to poll
            bot = self._adapter.bot(channel_access(channel, self._host.secret_key))

            async def on_update(update: Update) -> None:
                inbound = inbound_from_update(update)
                if inbound is None:
                    log.info(
                        "telegram.update_ignored", channel_id=str(channel_id), update_id=update.update_id
                    )
                    return
                await self._host.receive(channel, inbound)

            log.info("telegram.polling", channel_id=str(channel_id))
            await poll_channel(bot, on_update)

        return poll
