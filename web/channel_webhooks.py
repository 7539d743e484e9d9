"""Where channels push customers' messages: checked, stored once, answered by a job.

Each webhook is acknowledged as soon as the message is stored; the turn runs as a job. A bad or
missing secret is refused (401 missing, 403 wrong) before anything is read or stored.
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
from sqlalchemy.ext.asyncio import AsyncSession

from channels.registry import channel_access, channel_for_webhook
from channels.telegram import inbound_from_update
from runtime.broker import run_turn_task
from runtime.errors import AtendeError
from runtime.inbound import accept_on_channel
from runtime.services import Services

log = structlog.get_logger(__name__)
TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name


class UnauthenticatedWebhookError(AtendeError):
    status_code = 401
    title = "Unauthorized"


class MalformedPayloadError(AtendeError):
    title = "Malformed payload"


class ForbiddenWebhookError(AtendeError):
    status_code = 403
    title = "Forbidden"


def check_secret(given: str | None, expected: str, header: str) -> None:
    if not given:
        raise UnauthenticatedWebhookError(f"{header}: missing")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise ForbiddenWebhookError(f"{header}: does not match this channel's secret")


class ChannelWebhookController(Controller):
    path = "/webhooks"

    @post("/telegram/{channel_id:uuid}", exclude_from_auth=True, status_code=200)
    async def telegram_update(
        self,
        request: Request[Any, Any, State],
        channel_id: uuid.UUID,
        db_session: AsyncSession,
        services: Services,
    ) -> dict[str, bool]:
        channel = await channel_for_webhook(db_session, channel_id, "telegram")
        await db_session.close()
        access = channel_access(channel, services.settings.resolved_secret_key())
        check_secret(
            request.headers.get(TELEGRAM_SECRET_HEADER),
            access.credentials["webhook_secret"],
            TELEGRAM_SECRET_HEADER,
        )
        body = await request.body()
        try:
            update = Update.model_validate_json(body)
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(part) for part in error["loc"]) or "body"
            raise MalformedPayloadError(
                f"{where}: not a Telegram update ({error['msg']})", field=where
            ) from exc
        inbound = inbound_from_update(update)
        if inbound is None:
            log.info("telegram.update_ignored", channel_id=str(channel_id), update_id=update.update_id)
            return {"ok": True}
        message_id, created = await accept_on_channel(services, channel, inbound)
        if created:
            await run_turn_task.kiq(str(message_id))
        return {"ok": True}
