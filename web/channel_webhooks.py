"""Where channels push customers' messages: checked, stored once, answered by a job.

Each webhook is acknowledged as soon as the message is stored; the turn runs as a job. A bad or
missing secret is refused (401 missing, 403 wrong) before anything is read or stored: Telegram
sends the channel's secret back, WhatsApp signs the body with the Meta app's secret.
"""

from __future__ import annotations

import hmac
import uuid
from typing import Any

import structlog
from aiogram.types import Update
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.datastructures import State
from litestar.params import Parameter
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import InboundMessage
from channels.errors import InvalidMessageError
from channels.models import Channel
from channels.registry import channel_access, channel_for_webhook
from channels.telegram import inbound_from_update
from channels.whatsapp_cloud import (
    SIGNATURE_HEADER,
    MalformedWebhookError,
    StatusUpdate,
    decode_webhook,
    inbound_messages,
    is_signed_by,
    status_updates,
)
from conversations.delivery import report_status
from conversations.receive import receive
from conversations.services import Services
from core.errors import AtendeError, ForbiddenError, UnauthenticatedError

log = structlog.get_logger(__name__)
TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name


class MalformedPayloadError(AtendeError):
    """A provider's body that is not what its API sends."""


def check_secret(given: str | None, expected: str, header: str) -> None:
    if not given:
        raise UnauthenticatedError(f"{header}: missing")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise ForbiddenError(f"{header}: does not match this channel's secret")


def check_signature(given: str | None, body: bytes, app_secret: str) -> None:
    if not given:
        raise UnauthenticatedError(f"{SIGNATURE_HEADER}: missing")
    if not is_signed_by(body, given, app_secret):
        raise ForbiddenError(f"{SIGNATURE_HEADER}: does not match the body signed with the app secret")


def _whatsapp_webhook(channel: Channel, body: bytes) -> tuple[list[InboundMessage], list[StatusUpdate]]:
    """The messages and statuses for this channel's number; all or none (400 naming what is wrong)."""
    try:
        values = decode_webhook(body)
        ours = [v for v in values if v.metadata.phone_number_id == channel.config.get("phone_number_id")]
        messages = [message for value in ours for message in inbound_messages(value)]
    except MalformedWebhookError as exc:
        raise MalformedPayloadError(
            f"{exc.where}: not a WhatsApp webhook ({exc.reason})", field=exc.where
        ) from exc
    except InvalidMessageError as exc:
        raise MalformedPayloadError(f"messages: {exc.detail}", field="messages") from exc
    if len(ours) < len(values):  # another number of the same Meta app: its own channel has its own URL
        log.info("whatsapp.other_number", channel_id=str(channel.id), changes=len(values) - len(ours))
    return messages, [update for value in ours for update in status_updates(value)]


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
        await receive(services, channel, inbound)
        return {"ok": True}

    @get("/whatsapp-cloud/{channel_id:uuid}", exclude_from_auth=True, media_type=MediaType.TEXT)
    async def whatsapp_cloud_verify(
        self,
        channel_id: uuid.UUID,
        db_session: AsyncSession,
        services: Services,
        mode: str | None = Parameter(query="hub.mode", default=None),
        verify_token: str | None = Parameter(query="hub.verify_token", default=None),
        challenge: str = Parameter(query="hub.challenge", default=""),
    ) -> Response[str]:
        """Meta's check when the callback URL is set: echo the challenge if the verify token is ours."""
        channel = await channel_for_webhook(db_session, channel_id, "whatsapp-cloud")
        access = channel_access(channel, services.settings.resolved_secret_key())
        expected = access.credentials["verify_token"]
        if mode != "subscribe" or not hmac.compare_digest((verify_token or "").encode(), expected.encode()):
            raise ForbiddenError("hub.verify_token: does not match this channel's verify token")
        return Response(challenge, media_type=MediaType.TEXT)

    @post("/whatsapp-cloud/{channel_id:uuid}", exclude_from_auth=True, status_code=200)
    async def whatsapp_cloud_update(
        self,
        request: Request[Any, Any, State],
        channel_id: uuid.UUID,
        db_session: AsyncSession,
        services: Services,
    ) -> dict[str, bool]:
        channel = await channel_for_webhook(db_session, channel_id, "whatsapp-cloud")
        await db_session.close()
        access = channel_access(channel, services.settings.resolved_secret_key())
        body = await request.body()
        check_signature(request.headers.get(SIGNATURE_HEADER), body, access.credentials["app_secret"])
        messages, statuses = _whatsapp_webhook(channel, body)
        for inbound in messages:
            await receive(services, channel, inbound)
        for update in statuses:
            await report_status(services, channel, update.wamid, update.status, update.error)
        return {"ok": True}
