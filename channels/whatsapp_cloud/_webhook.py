"""Where Meta pushes a WhatsApp Cloud channel's messages and delivery statuses, signed with the app's
secret; and Meta's check of the callback URL.

Each webhook is acknowledged as soon as its messages are stored; their turns run as jobs. A missing
signature is refused with 401, a wrong one with 403, before anything is read or stored.
"""

from __future__ import annotations

import hmac
import uuid
from typing import Any

import structlog
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.datastructures import State
from litestar.params import Parameter

from channels.base import InboundMessage
from channels.errors import InvalidMessageError, MalformedPayloadError
from channels.models import Channel
from channels.plugin import ChannelHost, webhook_channel
from channels.whatsapp_cloud._mapping import StatusUpdate, inbound_messages, status_updates
from channels.whatsapp_cloud._payload import MalformedWebhookError, decode_webhook
from channels.whatsapp_cloud._signature import SIGNATURE_HEADER, is_signed_by
from core.errors import ForbiddenError, UnauthenticatedError
from core.storable_text import UNCHECKED_TEXT, storable_json

log = structlog.get_logger(__name__)


def check_signature(given: str | None, body: bytes, app_secret: str) -> None:
    if not given:
        raise UnauthenticatedError(f"{SIGNATURE_HEADER}: missing")
    if not is_signed_by(body, given, app_secret):
        raise ForbiddenError(f"{SIGNATURE_HEADER}: does not match the body signed with the app secret")


def webhook_for(channel: Channel, body: bytes) -> tuple[list[InboundMessage], list[StatusUpdate]]:
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


class WhatsAppCloudWebhook(Controller):
    path = "/webhooks/whatsapp-cloud"

    @get("/{channel_id:uuid}", exclude_from_auth=True, media_type=MediaType.TEXT)
    async def whatsapp_cloud_verify(
        self,
        channel_id: uuid.UUID,
        channel_host: ChannelHost,
        mode: str | None = Parameter(query="hub.mode", default=None),
        verify_token: str | None = Parameter(query="hub.verify_token", default=None),
        challenge: str = Parameter(query="hub.challenge", default=""),
    ) -> Response[str]:
        """Meta's check when the callback URL is set: echo the challenge if the verify token is ours."""
        _, access = await webhook_channel(channel_host, channel_id, "whatsapp-cloud")
        expected = access.credentials["verify_token"]
        if mode != "subscribe" or not hmac.compare_digest((verify_token or "").encode(), expected.encode()):
            raise ForbiddenError("hub.verify_token: does not match this channel's verify token")
        return Response(challenge, media_type=MediaType.TEXT)

    @post("/{channel_id:uuid}", exclude_from_auth=True, status_code=200, opt={UNCHECKED_TEXT: True})
    async def whatsapp_cloud_update(
        self, request: Request[Any, Any, State], channel_id: uuid.UUID, channel_host: ChannelHost
    ) -> dict[str, bool]:
        channel, access = await webhook_channel(channel_host, channel_id, "whatsapp-cloud")
        body = await request.body()
        check_signature(request.headers.get(SIGNATURE_HEADER), body, access.credentials["app_secret"])
        # After the signature, which is over the body as sent: a NUL in a message is dropped, not refused.
        messages, statuses = webhook_for(channel, storable_json(body))
        for inbound in messages:
            await channel_host.receive(channel, inbound)
        for update in statuses:
            await channel_host.report_status(channel, update.wamid, update.status, update.error)
        return {"ok": True}
