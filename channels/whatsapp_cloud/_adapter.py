"""Sends to WhatsApp through Meta's Graph API (the Cloud API) with one httpx client per process;
fetches customers' media; maps Graph's errors to retry or give up.

The channel's ``api_base`` and the media URLs Graph hands back are the tenant's to steer, so the
client connects to public addresses only unless the operator allows private networks
(``core.url_guard``): a refused address is a final failure, and the token is never sent there."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

import httpx

from channels.base import Attachment, ChannelAccess, DeliveryFailedError, OutgoingMessage
from channels.format import text_with_sources
from channels.media_store import MediaNotFoundError, MediaStore
from core.url_guard import PrivateAddressError, outbound_client

GRAPH_API = "https://graph.facebook.com"
GRAPH_VERSION = "v21.0"
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
RETRYABLE_CODES = frozenset({1, 2, 4, 80007, 130429, 131000, 131016, 131048, 131056})
"""Graph error codes that mean "not now" (throttling, a temporary outage) rather than "never"."""
SEND_AS = {
    "image": "image",
    "video": "video",
    "audio": "audio",
    "voice": "audio",
    "document": "document",
    "sticker": "sticker",
}
CAPTIONED = frozenset({"image", "video", "document"})


class GraphAPIError(Exception):
    """Graph refused a call, or could not be reached; ``retryable`` says whether trying again may help."""

    def __init__(self, reason: str, *, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.retry_after = retry_after


def _graph_error(response: httpx.Response) -> GraphAPIError:
    """Graph's body: ``{"error": {"message", "code", "error_data": {"details"}}}``; the message says why."""
    try:
        error = response.json()["error"]
        code, reason = int(error.get("code", 0)), str(error["message"])
        details = (error.get("error_data") or {}).get("details")
    except (ValueError, KeyError, TypeError, AttributeError):
        code, reason, details = 0, f"HTTP {response.status_code}: {response.text[:200]}", None
    if details and str(details) not in reason:
        reason = f"{reason}: {details}"
    retryable = response.status_code == 429 or response.status_code >= 500 or code in RETRYABLE_CODES
    retry_after = response.headers.get("retry-after", "")
    return GraphAPIError(
        reason,
        retryable=retryable,
        retry_after=float(retry_after) if retry_after.isdigit() else None,
    )


def _pieces(text: str) -> list[str]:
    """Text longer than WhatsApp takes in one message, cut at line ends where it can be."""
    pieces: list[str] = []
    while len(text) > TEXT_LIMIT:
        cut = text.rfind("\n", 0, TEXT_LIMIT)
        cut = cut if cut > 0 else TEXT_LIMIT
        pieces.append(text[:cut])
        text = text[cut:].lstrip("\n")
    return [*pieces, text] if text else pieces


class WhatsAppCloudAdapter:
    type = "whatsapp-cloud"

    def __init__(self, media: MediaStore, *, allow_private_networks: bool = False) -> None:
        self._media = media
        self._allow_private = allow_private_networks
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        """One client (and its connection pool) for every channel, made on first use."""
        if self._client is None:
            self._client = outbound_client(allow_private=self._allow_private, timeout=TIMEOUT)
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()

    @staticmethod
    def _url(channel: ChannelAccess, *path: str) -> str:
        base = str(channel.config.get("api_base") or GRAPH_API).rstrip("/")
        return "/".join((base, GRAPH_VERSION, *path))

    async def _call(self, channel: ChannelAccess, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {channel.credentials['token']}"}
        try:
            response = await self.client.request(method, url, headers=headers, **kwargs)
        except httpx.TransportError as exc:  # refused, reset, timed out: Graph may answer next time
            raise GraphAPIError(f"{type(exc).__name__}: {exc}".rstrip(": "), retryable=True) from exc
        except PrivateAddressError as exc:  # an api_base or media URL inside our network: never
            raise GraphAPIError(exc.detail, retryable=False) from exc
        if not response.is_success:
            raise _graph_error(response)
        return response

    async def _send(self, channel: ChannelAccess, to: str, kind: str, body: dict[str, Any]) -> str:
        payload = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": kind}
        url = self._url(channel, channel.config["phone_number_id"], "messages")
        response = await self._call(channel, "POST", url, json=payload | {kind: body})
        return str(response.json()["messages"][0]["id"])

    async def _upload(self, channel: ChannelAccess, attachment: Attachment) -> str:
        assert attachment.path is not None
        try:
            data = await self._media.read(attachment.path)
        except MediaNotFoundError as exc:
            raise DeliveryFailedError(f"{attachment.path}: not in the media store", retryable=False) from exc
        name = attachment.file_name or attachment.path.rsplit("/", 1)[-1]
        mime_type = attachment.mime_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
        mime_type = mime_type.split(";")[0].strip()
        response = await self._call(
            channel,
            "POST",
            self._url(channel, channel.config["phone_number_id"], "media"),
            data={"messaging_product": "whatsapp", "type": mime_type},
            files={"file": (name, data, mime_type)},
        )
        return str(response.json()["id"])

    async def deliver(
        self, channel: ChannelAccess, contact_external_id: str, message: OutgoingMessage
    ) -> str | None:
        """Text, then files (uploaded, then sent by id); a short text rides on the first file as its
        caption. Returns the wamid of the last message sent: its status updates name it."""
        try:
            return await self._deliver(channel, contact_external_id, message)
        except GraphAPIError as exc:
            raise DeliveryFailedError(
                exc.reason, retryable=exc.retryable, retry_after=exc.retry_after
            ) from exc

    async def _deliver(self, channel: ChannelAccess, to: str, message: OutgoingMessage) -> str | None:
        text = text_with_sources(message).strip()
        attachments = message.attachments
        captioned = bool(attachments) and SEND_AS[attachments[0].kind] in CAPTIONED
        caption = text if text and captioned and len(text) <= CAPTION_LIMIT else None
        sent: str | None = None
        if text and caption is None:
            for piece in _pieces(text):
                sent = await self._send(channel, to, "text", {"body": piece, "preview_url": False})
        for index, attachment in enumerate(attachments):
            kind = SEND_AS[attachment.kind]
            body: dict[str, Any] = {"id": await self._upload(channel, attachment)}
            if kind == "document":
                body["filename"] = attachment.file_name or Path(attachment.path or "file").name
            if index == 0 and caption:
                body["caption"] = caption
            sent = await self._send(channel, to, kind, body)
        return sent

    async def fetch_media(self, channel: ChannelAccess, attachment: Attachment) -> bytes:
        """Graph gives the media's short-lived URL; the file is downloaded with the same token."""
        info = (await self._call(channel, "GET", self._url(channel, attachment.file_id))).json()
        response = await self._call(channel, "GET", str(info["url"]), follow_redirects=True)
        return response.content
