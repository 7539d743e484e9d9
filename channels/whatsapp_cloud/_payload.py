"""The webhook payload Meta posts for a WhatsApp Business number, as msgspec Structs.

Only what Atende reads is declared; fields Meta adds later are ignored. A change's ``value`` is
decoded only for the ``messages`` field (other fields, such as template status updates, have
other shapes and are not for Atende).
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec


class Metadata(msgspec.Struct, frozen=True):
    phone_number_id: str
    display_phone_number: str = ""


class Profile(msgspec.Struct, frozen=True):
    name: str | None = None


class Sender(msgspec.Struct, frozen=True):
    """``contacts[]``: who wrote, with the name on their WhatsApp profile."""

    wa_id: str
    profile: Profile = Profile()


class Text(msgspec.Struct, frozen=True):
    body: str


class Media(msgspec.Struct, frozen=True):
    """An image, audio, video, document or sticker: fetched later by its media id."""

    id: str
    mime_type: str | None = None
    caption: str | None = None
    filename: str | None = None
    voice: bool = False


class Place(msgspec.Struct, frozen=True):
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None


class CardName(msgspec.Struct, frozen=True):
    formatted_name: str = ""
    first_name: str | None = None
    last_name: str | None = None


class CardPhone(msgspec.Struct, frozen=True):
    phone: str | None = None
    wa_id: str | None = None


class Card(msgspec.Struct, frozen=True):
    name: CardName = CardName()
    phones: list[CardPhone] = []


class Reply(msgspec.Struct, frozen=True):
    """A tapped reply button or list row."""

    id: str
    title: str
    description: str | None = None


class Interactive(msgspec.Struct, frozen=True):
    type: str
    button_reply: Reply | None = None
    list_reply: Reply | None = None


class TemplateButton(msgspec.Struct, frozen=True):
    """A tapped quick-reply button of a template (``type: button``)."""

    text: str
    payload: str | None = None


class Context(msgspec.Struct, frozen=True):
    """The message this one replies to."""

    id: str | None = None


class WaMessage(msgspec.Struct, frozen=True):
    sender: str = msgspec.field(name="from")
    id: str
    type: str
    timestamp: str = ""
    context: Context | None = None
    text: Text | None = None
    image: Media | None = None
    audio: Media | None = None
    video: Media | None = None
    document: Media | None = None
    sticker: Media | None = None
    location: Place | None = None
    contacts: list[Card] = []
    interactive: Interactive | None = None
    button: TemplateButton | None = None


class StatusError(msgspec.Struct, frozen=True):
    code: int
    title: str = ""
    message: str | None = None
    error_data: dict[str, Any] = {}


class WaStatus(msgspec.Struct, frozen=True):
    """What happened to a message the business sent (its ``id`` is the wamid Graph gave it)."""

    id: str
    status: str
    recipient_id: str = ""
    timestamp: str = ""
    errors: list[StatusError] = []


class MessagesValue(msgspec.Struct, frozen=True):
    metadata: Metadata
    contacts: list[Sender] = []
    messages: list[WaMessage] = []
    statuses: list[WaStatus] = []


class Change(msgspec.Struct, frozen=True):
    field: str
    value: msgspec.Raw


class Entry(msgspec.Struct, frozen=True):
    id: str
    changes: list[Change]


class WebhookPayload(msgspec.Struct, frozen=True):
    object: Literal["whatsapp_business_account"]
    entry: list[Entry]


class MalformedWebhookError(Exception):
    """The body is not JSON, or not a WhatsApp webhook; ``where`` names the part at fault."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}")
        self.where = where
        self.reason = reason


def _where(error: str, prefix: str) -> tuple[str, str]:
    """msgspec says "Expected `str`, got `int` - at `$.entry[0].id`": the path, then the reason."""
    reason, _, at = error.partition(" - at `$")
    path = prefix + at.rstrip("`") if at else prefix
    if "Object missing required field" in reason:
        missing = reason.split("`")[1]
        path, reason = f"{path}.{missing}" if path else missing, "is required"
    return path.lstrip(".") or "body", reason


def decode_webhook(body: bytes) -> list[MessagesValue]:
    """The ``messages`` changes of a webhook body, in order; MalformedWebhookError naming the reason."""
    try:
        payload = msgspec.json.decode(body, type=WebhookPayload)
    except msgspec.ValidationError as exc:
        raise MalformedWebhookError(*_where(str(exc), "")) from exc
    except msgspec.DecodeError as exc:
        raise MalformedWebhookError("body", f"not JSON: {exc}") from exc
    values: list[MessagesValue] = []
    for e, entry in enumerate(payload.entry):
        for c, change in enumerate(entry.changes):
            if change.field != "messages":
                continue
            try:
                values.append(msgspec.json.decode(change.value, type=MessagesValue))
            except msgspec.ValidationError as exc:
                raise MalformedWebhookError(*_where(str(exc), f"entry[{e}].changes[{c}].value")) from exc
    return values
