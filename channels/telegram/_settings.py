"""What an admin gives for a Telegram channel."""

from __future__ import annotations

import re
import secrets
from typing import Annotated, Literal

import msgspec

from channels.plugin import ApiBase, Secret
from core.errors import InvalidInputError

BOT_TOKEN_PATTERN = re.compile(r"^[0-9]{3,20}:[A-Za-z0-9_-]{10,200}$")


def _made_up_secret() -> str:
    return secrets.token_urlsafe(32)


class TelegramSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    token: Secret
    """The bot token from @BotFather."""
    webhook_secret: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{1,256}$")] = msgspec.field(
        default_factory=_made_up_secret
    )
    """Sent back in X-Telegram-Bot-Api-Secret-Token on every update (made up if not given)."""
    api_base: ApiBase | None = None
    mode: Literal["webhook", "polling"] = "webhook"
    """Updates pushed to /webhooks/telegram/{id}, or fetched by long polling."""

    def __post_init__(self) -> None:
        if not BOT_TOKEN_PATTERN.match(self.token):
            raise InvalidInputError("token", "is not a Telegram bot token (digits, a colon, then the secret)")


SECRETS = ("token", "webhook_secret")
