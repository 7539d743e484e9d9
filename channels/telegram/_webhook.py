"""Where Telegram pushes a webhook channel's updates: the channel's secret checked, the message stored
once, answered by a job.

The update is acknowledged as soon as the message is stored. A missing secret is refused with 401, a
wrong one with 403, before the body is read.
"""

from __future__ import annotations

import hmac
import uuid
from typing import Any

import structlog
from aiogram.types import Update
from litestar import Controller, Request, post
from litestar.datastructures import State
from pydantic import ValidationError

from channels.errors import MalformedPayloadError
from channels.plugin import ChannelHost, webhook_channel
from channels.telegram._mapping import inbound_from_update
from core.errors import ForbiddenError, UnauthenticatedError
from core.storable_text import UNCHECKED_TEXT, storable_json

log = structlog.get_logger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name


def check_secret(given: str | None, expected: str) -> None:
    if not given:
        raise UnauthenticatedError(f"{SECRET_HEADER}: missing")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise ForbiddenError(f"{SECRET_HEADER}: does not match this channel's secret")


def update_of(body: bytes) -> Update:
    """The body as a Telegram update, or a 400 naming where it is not one."""
    try:
        return Update.model_validate_json(body)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"]) or "body"
        raise MalformedPayloadError(f"{where}: not a Telegram update ({error['msg']})", field=where) from exc


class TelegramWebhook(Controller):
    path = "/webhooks/telegram"

    @post("/{channel_id:uuid}", exclude_from_auth=True, status_code=200, opt={UNCHECKED_TEXT: True})
    async def telegram_update(
        self, request: Request[Any, Any, State], channel_id: uuid.UUID, channel_host: ChannelHost
    ) -> dict[str, bool]:
        channel, access = await webhook_channel(channel_host, channel_id, "telegram")
        check_secret(request.headers.get(SECRET_HEADER), access.credentials["webhook_secret"])
        # A NUL in a customer's text is dropped, not refused: Telegram would retry a refusal forever.
        update = update_of(storable_json(await request.body()))
        inbound = inbound_from_update(update)
        if inbound is None:
            log.info("telegram.update_ignored", channel_id=str(channel_id), update_id=update.update_id)
            return {"ok": True}
        await channel_host.receive(channel, inbound)
        return {"ok": True}
