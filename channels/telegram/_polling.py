"""Long polling for a bot without a public address: getUpdates in a loop, backing off on errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog
from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import Update
from aiogram.utils.backoff import Backoff, BackoffConfig

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
