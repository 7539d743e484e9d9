"""Customers' media files: fetched from their channel into the data dir, within the size limit."""

from __future__ import annotations

import mimetypes
import uuid

import msgspec
import structlog

from channels.base import Attachment, MediaAdapter, content_of
from channels.models import Channel, Message
from channels.registry import channel_access
from runtime.services import Services

log = structlog.get_logger(__name__)


def _suffix(attachment: Attachment) -> str:
    if attachment.file_name and "." in attachment.file_name:
        return "." + attachment.file_name.rsplit(".", 1)[1].lower()[:10]
    return mimetypes.guess_extension(attachment.mime_type or "") or ""


async def keep_media(services: Services, channel: Channel, message: Message) -> list[Attachment]:
    """Fetch the message's attachments not fetched yet; returns those refused (too large)."""
    content = content_of(message.content)
    waiting = [a for a in content.attachments if not (a.path or a.rejected)]
    adapter = services.adapters.get(channel.type)
    if not waiting or not isinstance(adapter, MediaAdapter):
        return []
    settings = services.settings
    limit = settings.max_media_bytes
    too_large = f"larger than {settings.max_media_mb:g} MB"
    access = channel_access(channel, settings.resolved_secret_key())
    kept: list[Attachment] = []
    for attachment in content.attachments:
        if attachment in waiting:
            if attachment.size and attachment.size > limit:
                attachment = msgspec.structs.replace(attachment, rejected=too_large)
            else:
                try:
                    data = await adapter.fetch_media(access, attachment)
                except Exception as exc:  # the file stays listed, unfetched; the message still counts
                    log.warning("media.fetch_failed", message_id=str(message.id), error=type(exc).__name__)
                    kept.append(attachment)
                    continue
                if len(data) > limit:
                    attachment = msgspec.structs.replace(attachment, rejected=too_large)
                else:
                    path = f"{message.tenant_id}/{uuid.uuid4().hex}{_suffix(attachment)}"
                    target = settings.media_dir / path
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(data)
                    attachment = msgspec.structs.replace(attachment, path=path, size=len(data))
        kept.append(attachment)
    message.content = msgspec.structs.replace(content, attachments=tuple(kept)).as_dict()
    return [a for a in kept if a.rejected]
