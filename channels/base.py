"""The protocol every channel adapter follows, the normalized inbound message, the business's own
replies from its phone, and the typed outgoing one."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Protocol, runtime_checkable

import msgspec

from channels.errors import InvalidMessageError
from channels.views import CitationView, MessageView

MAX_TEXT_LENGTH = 4096
MessageText = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_TEXT_LENGTH)]
"""A message's text as every inbound route takes it: not empty, and within what every channel carries."""
ContactExternalId = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
"""The contact's id on its channel (a web chat session, a Telegram chat id, a phone number)."""

AttachmentKind = Literal["image", "audio", "voice", "video", "document", "sticker"]


class Attachment(msgspec.Struct, frozen=True, omit_defaults=True, kw_only=True):
    """A media file a message carries, as the channel names it until it is fetched."""

    kind: AttachmentKind
    file_id: str
    """The channel's id to fetch the file with (Telegram file_id, WhatsApp media id)."""
    mime_type: str | None = None
    file_name: str | None = None
    size: int | None = None
    path: str | None = None
    """Where the fetched file lies under the media dir."""
    rejected: str | None = None
    """Why the file was not kept (too large, a type not allowed)."""


class Location(msgspec.Struct, frozen=True, omit_defaults=True, kw_only=True):
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None


class ContactCard(msgspec.Struct, frozen=True, omit_defaults=True, kw_only=True):
    name: str
    phone: str | None = None


class MessageContent(msgspec.Struct, frozen=True, omit_defaults=True, kw_only=True):
    """Everything of a message that is not its text; stored as the message's ``content``."""

    attachments: tuple[Attachment, ...] = ()
    location: Location | None = None
    contact_card: ContactCard | None = None
    quoted: str | None = None
    """The channel's id of the earlier message this one replies to."""

    def is_empty(self) -> bool:
        return not (self.attachments or self.location or self.contact_card)

    def as_dict(self) -> dict[str, Any]:
        return dict(msgspec.to_builtins(self))


def content_of(raw: dict[str, Any] | None) -> MessageContent:
    return msgspec.convert(raw or {}, MessageContent)


def _check_message(text: str, content: MessageContent, contact_external_id: str, contact_field: str) -> None:
    """What every message a channel hands over must be: some text or media, text within bounds, and
    someone it is from or to (``contact_field``: that id's name where the caller gave it)."""
    if not text.strip() and content.is_empty():
        raise InvalidMessageError("text", "must not be empty")
    if len(text) > MAX_TEXT_LENGTH:
        raise InvalidMessageError("text", f"must have at most {MAX_TEXT_LENGTH} characters")
    if not contact_external_id.strip():
        raise InvalidMessageError(contact_field, "must not be empty")


@dataclass(frozen=True)
class InboundMessage:
    """A customer's message as any channel hands it to the pipeline."""

    contact_external_id: str
    """Who wrote, in the channel's terms: a web chat session id, a Telegram chat id, a phone number."""
    text: str
    channel_message_id: str
    """The channel's own id for the message: the same id twice is the same message."""
    contact_name: str | None = None
    content: MessageContent = field(default_factory=MessageContent)

    def __post_init__(self) -> None:
        _check_message(self.text, self.content, self.contact_external_id, "session_id")


@dataclass(frozen=True)
class OwnerReply:
    """A message the business sent to a customer from its own phone (or another device of the account),
    outside Atende: a person answered, so the bot steps back (``conversations.owner_replies``)."""

    contact_external_id: str
    """The customer the business wrote to, in the channel's terms (a phone number)."""
    text: str
    channel_message_id: str
    """The channel's id for the message: an echo of one Atende sent carries the id it was delivered as."""
    sent_at: datetime.datetime
    """When the business sent it (aware, UTC), as the channel says."""
    content: MessageContent = field(default_factory=MessageContent)

    def __post_init__(self) -> None:
        _check_message(self.text, self.content, self.contact_external_id, "contact_external_id")
        if not self.channel_message_id.strip():
            raise InvalidMessageError("channel_message_id", "must not be empty")
        if self.sent_at.tzinfo is None:
            raise InvalidMessageError("sent_at", "must carry its time zone")


@dataclass(frozen=True)
class ChannelAccess:
    """One configured channel as its adapter needs it: settings and decrypted credentials."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    type: str
    config: dict[str, Any]
    credentials: dict[str, str]


class DeliveryFailedError(Exception):
    """The channel did not take the message; ``retryable`` says whether trying again may help."""

    def __init__(self, reason: str, *, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.retry_after = retry_after


class Publisher(Protocol):
    """Real-time fan-out (Litestar channels in the app; nothing in the CLI)."""

    async def publish(self, stream: str, event: dict[str, Any]) -> None: ...


@dataclass(frozen=True, kw_only=True)
class OutgoingMessage:
    """A stored message on its way to the customer, as every adapter reads it; ``outgoing_message``
    makes it, and nothing else does."""

    id: str
    text: str
    citations: tuple[CitationView, ...] = ()
    """The passages the reply cites (channels that show plain text list their documents after it)."""
    attachments: tuple[Attachment, ...] = ()
    """The files it carries that the media store holds (each has a ``path``): what a channel sends."""
    reply_to: str | None = None
    """The channel's id of the earlier message it quotes, if it quotes one."""
    view: MessageView
    """The whole message as the inbox shows it; the web chat page gets it without the decision."""


def outgoing_message(view: MessageView) -> OutgoingMessage:
    """The one place a stored message (its view) becomes what an adapter delivers."""
    content = content_of(view.content)
    return OutgoingMessage(
        id=view.id,
        text=view.text,
        citations=tuple(view.citations),
        attachments=tuple(a for a in content.attachments if a.path),
        reply_to=content.quoted,
        view=view,
    )


class ChannelAdapter(Protocol):
    """Delivers an outbound message to the customer on one kind of channel."""

    type: str

    async def deliver(
        self, channel: ChannelAccess, contact_external_id: str, message: OutgoingMessage
    ) -> str | None:
        """Send ``message``; returns the channel's id for it, if any. Raises DeliveryFailedError."""
        ...


@runtime_checkable
class ClosingAdapter(Protocol):
    """An adapter that holds connections or sessions, closed when the services close."""

    async def close(self) -> None: ...


@runtime_checkable
class SessionAdapter(Protocol):
    """A channel that sends through a live session which one process of the cluster holds (WhatsApp
    by QR code): its messages are sent by that process (``conversations.session_delivery``)."""

    def holds_session(self, channel_id: uuid.UUID) -> bool:
        """Whether the channel's session runs in this process."""
        ...


@runtime_checkable
class StreamingAdapter(Protocol):
    """A channel that can show a reply while the model is still writing it (the web chat)."""

    async def deliver_partial(
        self, tenant_id: str, contact_external_id: str, reply_to: str, text: str
    ) -> None:
        """``text`` is the next piece of the reply to the customer message ``reply_to``."""


@runtime_checkable
class TypingAdapter(Protocol):
    """A channel that can show the customer that the bot is writing."""

    async def show_typing(self, channel: ChannelAccess, contact_external_id: str) -> None: ...


@runtime_checkable
class MediaAdapter(Protocol):
    """A channel whose media files are fetched by id (Telegram, WhatsApp)."""

    async def fetch_media(self, channel: ChannelAccess, attachment: Attachment) -> bytes: ...
