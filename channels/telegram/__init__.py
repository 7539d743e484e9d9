"""Telegram through aiogram 3: updates in (webhook or long polling), messages and media out."""

from channels.telegram._adapter import TelegramAdapter
from channels.telegram._mapping import inbound_from_update
from channels.telegram._polling import poll_channel

__all__ = ["TelegramAdapter", "inbound_from_update", "poll_channel"]
