"""neonize's events as Atende messages and back, without a connection: what arrived, what to send.

An inbound media file is fetched later (by ``keep_media``, when the turn runs), and WhatsApp needs the
media message itself to find and decrypt it: its direct path, media key and hashes. So an
attachment's ``file_id`` *is* that media message: the one field of a ``waE2E.Message`` that holds the
media (caption, thumbnail and reply context cleared), serialized and base64-encoded, a few hundred
characters. ``media_message`` turns it back into what neonize's ``download_any`` takes; nothing else
needs to remember it, and it survives restarts because it is stored with the message.
"""

from __future__ import annotations

import base64
import datetime
import re
from dataclasses import dataclass
from typing import Literal

from neonize.proto.Neonize_pb2 import JID, MessageSource, Receipt
from neonize.proto.Neonize_pb2 import Message as MessageEv
from neonize.proto.waE2E.WAWebProtobufsE2E_pb2 import ContextInfo
from neonize.proto.waE2E.WAWebProtobufsE2E_pb2 import Message as WAMessage
from neonize.utils.jid import build_jid

from channels.base import (
    MAX_TEXT_LENGTH,
    Attachment,
    AttachmentKind,
    ContactCard,
    InboundMessage,
    Location,
    MessageContent,
    OutgoingMessage,
    OwnerReply,
)
from channels.format import text_with_sources
from channels.models import DeliveryStatus

PHONE_SERVER = "s.whatsapp.net"
LID_SERVER = "lid"
IGNORED_SERVERS = frozenset({"g.us", "broadcast", "newsletter", "call"})
"""Groups, status updates and broadcast lists, channels (newsletters): nobody to answer one to one."""

RECEIPT_STATUSES: dict[int, DeliveryStatus] = {
    Receipt.DELIVERED: DeliveryStatus.DELIVERED,
    Receipt.READ: DeliveryStatus.READ,
    Receipt.PLAYED: DeliveryStatus.READ,  # a voice note listened to was read
}

MEDIA_FIELDS: dict[str, AttachmentKind] = {
    "imageMessage": "image",
    "videoMessage": "video",
    "audioMessage": "audio",
    "documentMessage": "document",
    "stickerMessage": "sticker",
}
WRAPPERS = (
    "ephemeralMessage",
    "viewOnceMessage",
    "viewOnceMessageV2",
    "documentWithCaptionMessage",
    "deviceSentMessage",  # what the business's phone sent, as its other devices get it
)
TEL_LINE = re.compile(r"^(?:item\d+\.)?TEL[^:]*:(.+)$", re.IGNORECASE | re.MULTILINE)


# ---- inbound ---------------------------------------------------------------------------------------


def _contact_id(source: MessageSource) -> str | None:
    """The customer's phone number (digits); a customer known only by a privacy id (LID) keeps the
    whole ``<id>@lid`` JID, which ``recipient_jid`` sends to as it is."""
    return _person_of(source.Sender, source.SenderAlt, source.Chat)


def _person_of(*candidates: JID) -> str | None:
    """The first phone number among ``candidates``, else the first privacy id (see ``_contact_id``)."""
    for jid in candidates:
        if jid.Server == PHONE_SERVER and jid.User:
            return str(jid.User)
    for jid in candidates:
        if jid.Server == LID_SERVER and jid.User:
            return f"{jid.User}@{LID_SERVER}"
    return None


def _unwrapped(message: WAMessage) -> WAMessage:
    """Disappearing, view-once and captioned documents come wrapped in a FutureProofMessage."""
    for wrapper in WRAPPERS:
        if message.HasField(wrapper):
            return _unwrapped(getattr(message, wrapper).message)
    return message


def media_file_id(message: WAMessage, field: str) -> str:
    """The ``file_id`` of the media in ``message.<field>`` (see the module's docstring)."""
    only = WAMessage()
    getattr(only, field).CopyFrom(getattr(message, field))
    media = getattr(only, field)
    for bulky in ("caption", "JPEGThumbnail", "contextInfo", "pngThumbnail", "streamingSidecar"):
        if bulky in media.DESCRIPTOR.fields_by_name:
            media.ClearField(bulky)
    return base64.urlsafe_b64encode(only.SerializeToString()).decode()


def media_message(file_id: str) -> WAMessage:
    """What ``download_any`` needs to fetch and decrypt an attachment's file."""
    return WAMessage.FromString(base64.urlsafe_b64decode(file_id.encode()))


def _attachment(message: WAMessage) -> tuple[Attachment, str] | None:
    """The message's media file and its caption, if it carries one."""
    for field, kind in MEDIA_FIELDS.items():
        if not message.HasField(field):
            continue
        media = getattr(message, field)
        if field == "audioMessage" and media.PTT:
            kind = "voice"
        names = media.DESCRIPTOR.fields_by_name
        file_name = media.fileName if "fileName" in names and media.fileName else None
        caption = media.caption if "caption" in names else ""
        attachment = Attachment(
            kind=kind,
            file_id=media_file_id(message, field),
            mime_type=media.mimetype or None,
            file_name=file_name,
            size=media.fileLength or None,
        )
        return attachment, caption
    return None


def _contact_card(display_name: str, vcard: str) -> ContactCard:
    """The name WhatsApp shows and the first TEL of the vCard (``TEL;type=CELL;waid=55…:+55 11 …``)."""
    tel = TEL_LINE.search(vcard)
    phone = tel.group(1).strip() if tel else None
    if phone is None:
        waid = re.search(r"waid=(\d+)", vcard)
        phone = waid.group(1) if waid else None
    return ContactCard(name=display_name or phone or "?", phone=phone)


def _context(message: WAMessage) -> ContextInfo | None:
    for field in ("extendedTextMessage", *MEDIA_FIELDS, "locationMessage", "contactMessage"):
        if message.HasField(field):
            part = getattr(message, field)
            return part.contextInfo if part.HasField("contextInfo") else None
    return None


def _text_and_content(message: WAMessage) -> tuple[str, MessageContent]:
    context = _context(message)
    quoted = context.stanzaID if context is not None and context.stanzaID else None
    media = _attachment(message)
    if media is not None:
        attachment, caption = media
        return caption, MessageContent(attachments=(attachment,), quoted=quoted)
    if message.HasField("locationMessage"):
        place = message.locationMessage
        location = Location(
            latitude=place.degreesLatitude,
            longitude=place.degreesLongitude,
            name=place.name or None,
            address=place.address or None,
        )
        return "", MessageContent(location=location, quoted=quoted)
    if message.HasField("contactMessage"):
        card = _contact_card(message.contactMessage.displayName, message.contactMessage.vcard)
        return "", MessageContent(contact_card=card, quoted=quoted)
    if message.HasField("buttonsResponseMessage"):
        return message.buttonsResponseMessage.selectedDisplayText, MessageContent(quoted=quoted)
    if message.HasField("listResponseMessage"):
        reply = message.listResponseMessage
        return reply.title or reply.singleSelectReply.selectedRowID, MessageContent(quoted=quoted)
    if message.HasField("extendedTextMessage"):
        return message.extendedTextMessage.text, MessageContent(quoted=quoted)
    return message.conversation, MessageContent(quoted=quoted)


def inbound_from_event(event: MessageEv) -> InboundMessage | None:
    """None for what is not a customer's new message: the business's own messages (from its phone:
    ``owner_reply_from_event``), groups, status updates, channels, and reactions, edits, deletions and other protocol
    messages (they carry no text or content Atende takes)."""
    source = event.Info.MessageSource
    if source.IsFromMe or not _one_to_one(source):
        return None
    contact = _contact_id(source)
    if contact is None or not event.Info.ID:
        return None
    text, content = _text_and_content(_unwrapped(event.Message))
    if not text.strip() and content.is_empty():
        return None
    return InboundMessage(
        contact_external_id=contact,
        text=text[:MAX_TEXT_LENGTH],  # WhatsApp allows longer texts than Atende keeps
        channel_message_id=event.Info.ID,
        contact_name=event.Info.Pushname or None,
        content=content,
    )


def _one_to_one(source: MessageSource) -> bool:
    """A chat with one person: not a group, a status update, a broadcast list or a channel."""
    return not source.IsGroup and source.Chat.Server not in IGNORED_SERVERS


def _sent_at(timestamp: int) -> datetime.datetime:
    """neonize gives milliseconds (older releases gave seconds, read as such); none at all is now."""
    if timestamp <= 0:
        return datetime.datetime.now(datetime.UTC)
    seconds = timestamp / 1000 if timestamp >= 100_000_000_000 else timestamp
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC)


def owner_reply_from_event(event: MessageEv) -> OwnerReply | None:
    """The business's own message to a customer, sent from its phone (or WhatsApp Web): a person is
    answering. None for everything else: customers' messages (``inbound_from_event`` takes those),
    groups, status updates, channels, notes to itself, and reactions, edits and deletions."""
    source = event.Info.MessageSource
    if not source.IsFromMe or not _one_to_one(source) or not event.Info.ID:
        return None
    contact = _person_of(source.Chat, source.RecipientAlt)
    own = {jid.User for jid in (source.Sender, source.SenderAlt) if jid.User}
    if contact is None or contact.partition("@")[0] in own:
        return None
    text, content = _text_and_content(_unwrapped(event.Message))
    if not text.strip() and content.is_empty():
        return None
    return OwnerReply(
        contact_external_id=contact,
        text=text[:MAX_TEXT_LENGTH],
        channel_message_id=event.Info.ID,
        sent_at=_sent_at(event.Info.Timestamp),
        content=content,
    )


def statuses_from_receipt(receipt: Receipt) -> list[tuple[str, DeliveryStatus]]:
    """(message id, status) for each message a customer's phone got or read; receipts in groups,
    from the business's own devices and of other kinds (retries, errors) say nothing Atende tracks."""
    status = RECEIPT_STATUSES.get(receipt.Type)
    source = receipt.MessageSource
    if status is None or source.IsGroup or source.IsFromMe:
        return []
    return [(message_id, status) for message_id in receipt.MessageIDs]


# ---- outbound --------------------------------------------------------------------------------------

SendKind = Literal["text", "image", "audio", "voice", "document"]


@dataclass(frozen=True)
class OutboundSend:
    """One WhatsApp message to send: text, or a file (under the media dir) with an optional caption."""

    kind: SendKind
    text: str | None = None
    """The text of a text message, or the caption of a file."""
    path: str | None = None
    """A file's path under the media dir."""
    file_name: str | None = None
    mime_type: str | None = None


def outbound_sends(message: OutgoingMessage) -> list[OutboundSend]:
    """What to send for an Atende message: its text with the sources it cites, or its files, the
    first captioned with that text (WhatsApp has no caption on audio: the text then goes first, on
    its own)."""
    text = text_with_sources(message)
    files = message.attachments
    if not files:
        return [OutboundSend("text", text=text)]
    sends: list[OutboundSend] = []
    caption: str | None = text if text.strip() else None
    for attachment in files:
        kind: SendKind = attachment.kind if attachment.kind in ("image", "audio", "voice") else "document"
        if kind in ("audio", "voice") and caption:
            sends.append(OutboundSend("text", text=caption))
            caption = None
        sends.append(
            OutboundSend(
                kind,
                text=caption,
                path=attachment.path,
                file_name=attachment.file_name,
                mime_type=attachment.mime_type,
            )
        )
        caption = None
    return sends


def recipient_jid(contact_external_id: str) -> JID:
    """A phone number (digits) on WhatsApp's user server, or a JID written out (``<id>@lid``)."""
    user, _, server = contact_external_id.partition("@")
    return build_jid(user, server or PHONE_SERVER)
