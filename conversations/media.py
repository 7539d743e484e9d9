"""Media files: customers' fetched from their channel, agents' uploaded; within the limits, kept in
the media store (the data dir, or an S3-compatible bucket)."""

from __future__ import annotations

import mimetypes
import uuid

import msgspec
import structlog

from channels.base import Attachment, AttachmentKind, MediaAdapter, content_of
from channels.models import Channel, Message
from channels.stored import channel_access
from conversations.services import Services
from core.errors import InvalidInputError

log = structlog.get_logger(__name__)


def _suffix(attachment: Attachment) -> str:
    if attachment.file_name and "." in attachment.file_name:
        return "." + attachment.file_name.rsplit(".", 1)[1].lower()[:10]
    mime_type = (attachment.mime_type or "").split(";")[0].strip()  # WhatsApp: "audio/ogg; codecs=opus"
    return mimetypes.guess_extension(mime_type) or ""


async def keep_media(services: Services, channel: Channel, message: Message) -> list[Attachment]:
    """Fetch the message's attachments not fetched yet; returns those refused (too large, or a type
    ATENDE_MEDIA_TYPES does not accept)."""
    content = content_of(message.content)
    waiting = [a for a in content.attachments if not (a.path or a.rejected)]
    adapter = services.adapters.get(channel.type)
    if not waiting or not isinstance(adapter, MediaAdapter):
        return []
    settings = services.settings
    limit = settings.max_media_bytes
    too_large = f"larger than {settings.max_media_mb:g} MB"
    not_allowed = "a type of file not accepted"
    access = channel_access(channel, settings.resolved_secret_key())
    kept: list[Attachment] = []
    for attachment in content.attachments:
        if attachment in waiting:
            if attachment.size and attachment.size > limit:
                attachment = msgspec.structs.replace(attachment, rejected=too_large)
            elif attachment.mime_type and not settings.accepts_media_type(attachment.mime_type):
                attachment = msgspec.structs.replace(attachment, rejected=not_allowed)
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
                    await services.media.write(path, data, attachment.mime_type)
                    attachment = msgspec.structs.replace(attachment, path=path, size=len(data))
        kept.append(attachment)
    message.content = msgspec.structs.replace(content, attachments=tuple(kept)).as_dict()
    return [a for a in kept if a.rejected]


def kind_of(mime_type: str) -> AttachmentKind:
    family = mime_type.split("/")[0]
    if family == "image":
        return "image"
    if mime_type.startswith("audio/ogg"):
        return "voice"
    if family in ("audio", "video"):
        return "audio" if family == "audio" else "video"
    return "document"


async def store_agent_file(
    services: Services, tenant_id: uuid.UUID, file_name: str, mime_type: str | None, data: bytes
) -> Attachment:
    """A file an agent sends: checked against the limits, kept in the media store."""
    settings = services.settings
    mime_type = (mime_type or mimetypes.guess_type(file_name)[0] or "application/octet-stream").split(";")[0]
    if len(data) > settings.max_media_bytes:
        raise InvalidInputError("file", f"is larger than {settings.max_media_mb:g} MB")
    if not data:
        raise InvalidInputError("file", "is empty")
    if not settings.accepts_media_type(mime_type):
        raise InvalidInputError("file", f"{mime_type} files are not accepted (ATENDE_MEDIA_TYPES)")
    attachment = Attachment(
        kind=kind_of(mime_type), file_id="", mime_type=mime_type, file_name=file_name, size=len(data)
    )
    path = f"{tenant_id}/{uuid.uuid4().hex}{_suffix(attachment)}"
    await services.media.write(path, data, mime_type)
    return msgspec.structs.replace(attachment, path=path)
