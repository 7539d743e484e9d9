"""Telegram channels in polling mode: one long-polling task each while the app runs."""

from __future__ import annotations

import asyncio

import structlog
from aiogram.types import Update

from channels.models import Channel
from channels.registry import channel_access, channels_of_type
from channels.telegram import TelegramAdapter, inbound_from_update, poll_channel
from runtime.broker import run_turn_task
from runtime.inbound import accept_on_channel
from runtime.services import Services

log = structlog.get_logger(__name__)


async def _take(services: Services, channel: Channel, update: Update) -> None:
    inbound = inbound_from_update(update)
    if inbound is None:
        log.info("telegram.update_ignored", channel_id=str(channel.id), update_id=update.update_id)
        return
    message_id, created = await accept_on_channel(services, channel, inbound)
    if created:
        await run_turn_task.kiq(str(message_id))


async def start_telegram_pollers(services: Services) -> list[asyncio.Task[None]]:
    """Channels added later start polling when the app restarts."""
    adapter = services.adapters["telegram"]
    assert isinstance(adapter, TelegramAdapter)
    async with services.database.sessionmaker() as session:
        channels = [
            c for c in await channels_of_type(session, "telegram") if c.config.get("mode") == "polling"
        ]
    tasks = []
    for channel in channels:
        bot = adapter.bot(channel_access(channel, services.settings.resolved_secret_key()))

        async def on_update(update: Update, channel: Channel = channel) -> None:
            await _take(services, channel, update)

        tasks.append(asyncio.create_task(poll_channel(bot, on_update), name=f"telegram-poll-{channel.id}"))
        log.info("telegram.polling", channel_id=str(channel.id))
    return tasks
