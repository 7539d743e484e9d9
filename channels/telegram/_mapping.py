"""A Telegram update as an Atende inbound message: text, media, location, contact card, reply-to."""

from __future__ import annotations

from typing import NamedTuple

from aiogram.types import Message, Update

from channels.base import Attachment, AttachmentKind, ContactCard, InboundMessage, Location, MessageContent


def _message_id(chat_id: int, message_id: int) -> str:
    """Telegram numbers messages per chat: the pair is the message's id."""
    return f"{chat_id}:{message_id}"


class _Media(NamedTuple):
    """A kind of media a Telegram message may carry, and what Telegram says of its file."""

    field: str
    """The Message field that holds it."""
    kind: AttachmentKind
    typed: bool = True
    """Telegram gives its MIME type."""
    named: bool = True
    """Telegram gives its file name."""
    mime_type: str | None = None
    """Its MIME type where Telegram gives none."""


_MEDIA = (
    _Media("photo", "image", typed=False, named=False, mime_type="image/jpeg"),
    _Media("voice", "voice", named=False),
    _Media("audio", "audio"),
    _Media("video", "video"),
    _Media("document", "document"),
    _Media("sticker", "sticker", typed=False, named=False),
)
"""In the order they are looked for: a message carries one of them at the most."""


def _attachments(message: Message) -> tuple[Attachment, ...]:
    for media in _MEDIA:
        found = getattr(message, media.field)
        if not found:
            continue
        file = found[-1] if isinstance(found, list) else found  # a photo's sizes: the biggest is last
        return (
            Attachment(
                kind=media.kind,
                file_id=file.file_id,
                mime_type=file.mime_type if media.typed else media.mime_type,
                file_name=file.file_name if media.named else None,
                size=file.file_size,
            ),
        )
    return ()


def _content(message: Message) -> MessageContent:
    location = (
        Location(
            latitude=message.location.latitude,
            longitude=message.location.longitude,
            name=message.venue.title if message.venue else None,
            address=message.venue.address if message.venue else None,
        )
        if message.location
        else None
    )
    card = (
        ContactCard(
            name=" ".join(p for p in (message.contact.first_name, message.contact.last_name) if p),
            phone=message.contact.phone_number,
        )
        if message.contact
        else None
    )
    quoted = (
        _message_id(message.chat.id, message.reply_to_message.message_id)
        if message.reply_to_message
        else None
    )
    return MessageContent(
        attachments=_attachments(message), location=location, contact_card=card, quoted=quoted
    )


def inbound_from_update(update: Update) -> InboundMessage | None:
    """None for what is not a new customer message (edits, reactions, other update types)."""
    message = update.message
    if message is None or message.from_user is None or message.from_user.is_bot:
        return None
    content = _content(message)
    text = message.text or message.caption or ""
    if not text.strip() and content.is_empty():
        return None  # a service message (a member joined, a pinned message): nothing to answer
    return InboundMessage(
        contact_external_id=str(message.chat.id),
        text=text,
        channel_message_id=_message_id(message.chat.id, message.message_id),
        contact_name=message.from_user.full_name,
        content=content,
    )
