"""The Telegram channel as the app sees it."""

from __future__ import annotations

from channels.plugin import ChannelPlugin, ChannelSettings
from channels.telegram._adapter import TelegramAdapter
from channels.telegram._polling import TelegramPollers
from channels.telegram._settings import TelegramSettings, polls
from channels.telegram._webhook import TelegramWebhook

PLUGIN = ChannelPlugin(
    type="telegram",
    settings=ChannelSettings("Telegram", TelegramSettings),
    make_adapter=lambda resources: TelegramAdapter(
        resources.media, allow_private_networks=resources.allow_private_networks
    ),
    route_handlers=[TelegramWebhook],
    webhook_path="/webhooks/telegram/{id}",
    polls=polls,
    lifecycle=TelegramPollers,
)
