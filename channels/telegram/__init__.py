"""Telegram through aiogram 3: updates in (webhook or long polling), messages and media out."""

from channels.telegram._adapter import TelegramAdapter
from channels.telegram._mapping import inbound_from_update
from channels.telegram._plugin import PLUGIN
from channels.telegram._polling import TelegramPollers, poll_channel
from channels.telegram._settings import TelegramSettings

__all__ = [
    "PLUGIN",
    "TelegramAdapter",
    "TelegramPollers",
    "TelegramSettings",
    "inbound_from_update",
    "poll_channel",
]
