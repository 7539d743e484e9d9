"""A WhatsApp webhook's messages as Atende inbound messages, and its statuses as delivery updates."""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from channels.base import Attachment, AttachmentKind, ContactCard, InboundMessage, Location, MessageContent
from channels.models import DeliveryStatus
from channels.whatsapp_cloud._payload import Media, MessagesValue, WaMessage, WaStatus

log = structlog.get_logger(__name__)

STATUSES = {
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ,
    "failed": DeliveryStatus.FAILED,
}


@dataclass(frozen=True)
class StatusUpdate:
    """Meta's news about a message the business sent, named by the wamid Graph gave it."""

    wamid: str
    status: DeliveryStatus
    error: str | None = None


def _attachment(kind: AttachmentKind, media: Media) -> Attachment:
    return Attachment(kind=kind, file_id=media.id, mime_type=media.mime_type, file_name=media.filename)


def _text_and_content(message: WaMessage) -> tuple[str, MessageContent] | None:
    """None for a type Atende does not take (reactions, orders, system notices, unsupported)."""
    quoted = message.context.id if message.context else None
    media: tuple[AttachmentKind, Media | None] | None = {
        "image": ("image", message.image),
        "video": ("video", message.video),
        "document": ("document", message.document),
        "sticker": ("sticker", message.sticker),
        "audio": ("voice" if message.audio and message.audio.voice else "audio", message.audio),
    }.get(message.type)
    if media is not None:
        kind, item = media
        if item is None:
            return None
        return item.caption or "", MessageContent(attachments=(_attachment(kind, item),), quoted=quoted)
    if message.type == "text" and message.text:
        return message.text.body, MessageContent(quoted=quoted)
    if message.type == "location" and message.location:
        place = message.location
        location = Location(
            latitude=place.latitude, longitude=place.longitude, name=place.name, address=place.address
        )
        return "", MessageContent(location=location, quoted=quoted)
    if message.type == "contacts" and message.contacts:
        card = message.contacts[0]
        name = card.name.formatted_name or " ".join(
            part for part in (card.name.first_name, card.name.last_name) if part
        )
        phone = next((p.phone or p.wa_id for p in card.phones if p.phone or p.wa_id), None)
        return "", MessageContent(
            contact_card=ContactCard(name=name or phone or "?", phone=phone), quoted=quoted
        )
    if message.type == "interactive" and message.interactive:
        reply = message.interactive.button_reply or message.interactive.list_reply
        return (reply.title, MessageContent(quoted=quoted)) if reply else None
    if message.type == "button" and message.button:
        return message.button.text, MessageContent(quoted=quoted)
    return None


def inbound_messages(value: MessagesValue) -> list[InboundMessage]:
    """The customers' messages of one change, in order; unknown types are logged and left out."""
    names = {sender.wa_id: sender.profile.name for sender in value.contacts}
    inbound: list[InboundMessage] = []
    for message in value.messages:
        taken = _text_and_content(message)
        if taken is None:
            log.info("whatsapp.message_ignored", type=message.type, wamid=message.id)
            continue
        text, content = taken
        inbound.append(
            InboundMessage(
                contact_external_id=message.sender,
                text=text,
                channel_message_id=message.id,
                contact_name=names.get(message.sender),
                content=content,
            )
        )
    return inbound


def _reason(status: WaStatus) -> str:
    if not status.errors:
        return "WhatsApp reported the message as failed"
    error = status.errors[0]
    reason = f"({error.code}) {error.title or error.message or 'failed'}"
    details = error.error_data.get("details")
    return f"{reason}: {details}" if details else reason


def status_updates(value: MessagesValue) -> list[StatusUpdate]:
    """The delivery statuses of one change; kinds Atende does not track (e.g. ``deleted``) are left out."""
    updates: list[StatusUpdate] = []
    for status in value.statuses:
        known = STATUSES.get(status.status)
        if known is None:
            log.info("whatsapp.status_ignored", status=status.status, wamid=status.id)
            continue
        error = _reason(status) if known == DeliveryStatus.FAILED else None
        updates.append(StatusUpdate(status.id, known, error))
    return updates
