"""What an admin gives for a Telegram channel."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from typing import Annotated, Literal

import msgspec

from channels.setting_fields import ApiBase, Secret
from core.errors import InvalidInputError

BOT_TOKEN_PATTERN = re.compile(r"^[0-9]{3,20}:[A-Za-z0-9_-]{10,200}$")


def _made_up_secret() -> str:
    return secrets.token_urlsafe(32)


class TelegramSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    token: Annotated[Secret, msgspec.Meta(title="Token", description="The bot token from @BotFather.")]
    webhook_secret: Annotated[
        str,
        msgspec.Meta(
            pattern=r"^[A-Za-z0-9_-]{1,256}$",
            title="Webhook secret",
            description="Sent back in X-Telegram-Bot-Api-Secret-Token on every update (made up if not given).",
            extra={"secret": True, "placeholder": "made up if empty"},
        ),
    ] = msgspec.field(default_factory=_made_up_secret)
    api_base: ApiBase | None = None
    mode: Annotated[
        Literal["webhook", "polling"],
        msgspec.Meta(
            title="Long polling (no public address)",
            description="Fetch updates by long polling instead of a webhook at /webhooks/telegram/{id}.",
            extra={"switch": "polling"},
        ),
    ] = "webhook"

    def __post_init__(self) -> None:
        if not BOT_TOKEN_PATTERN.match(self.token):
            raise InvalidInputError("token", "is not a Telegram bot token (digits, a colon, then the secret)")


def polls(config: Mapping[str, object]) -> bool:
    """A channel set to long polling: no webhook, a poller while the app runs."""
    return config.get("mode") == "polling"
