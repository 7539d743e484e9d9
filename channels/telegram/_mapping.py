"""A Telegram update as an Atende inbound message: text, media, location, contact card, reply-to."""

from __future__ import annotations

from aiogram.types import Message, Update

from channels.base import Attachment, ContactCard, InboundMessage, Location, MessageContent


def _message_id(chat_id: int, message_id: int) -> str:
    """Telegram numbers messages per chat: the pair is the message's id."""
    return f"{chat_id}:{message_id}"


def _attachments(message: Message) -> tuple[Attachment, ...]:
    if message.photo:
        biggest = message.photo[-1]
        return (
            Attachment(kind="image", file_id=biggest.file_id, mime_type="image/jpeg", size=biggest.file_size),
        )
    if message.voice:
        voice = message.voice
        return (
            Attachment(kind="voice", file_id=voice.file_id, mime_type=voice.mime_type, size=voice.file_size),
        )
    if message.audio:
        audio = message.audio
        return (
            Attachment(
                kind="audio",
                file_id=audio.file_id,
                mime_type=audio.mime_type,
                file_name=audio.file_name,
                size=audio.file_size,
            ),
        )
    if message.video:
        video = message.video
        return (
            Attachment(
                kind="video",
                file_id=video.file_id,
                mime_type=video.mime_type,
                file_name=video.file_name,
                size=video.file_size,
            ),
        )
    if message.document:
        document = message.document
        return (
            Attachment(
                kind="document",
                file_id=document.file_id,
                mime_type=document.mime_type,
                file_name=document.file_name,
                size=document.file_size,
            ),
        )
    if message.sticker:
        sticker = message.sticker
        return (Attachment(kind="sticker", file_id=sticker.file_id, size=sticker.file_size),)
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
