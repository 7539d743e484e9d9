"""Telegram updates, as aiogram parses them, become Atende messages with their media, place and card."""

from __future__ import annotations

from typing import Any

from aiogram.types import Update

from channels.base import Attachment, ContactCard, Location
from channels.format import text_with_sources
from channels.telegram import inbound_from_update
from tests.channels.outgoing import outgoing
from tests.fakes.telegram_api import (
    contact_update,
    document_update,
    edited_update,
    location_update,
    message,
    photo_update,
    reply_update,
    text_update,
    unknown_update,
    voice_update,
)


def inbound(update: dict[str, Any]) -> Any:
    """The mapped message (None for what is not one), as the webhook and the poller get it."""
    return inbound_from_update(Update.model_validate(update))


def test_a_text_carries_who_wrote_it_and_the_chat_to_answer() -> None:
    got = inbound(text_update("Oi, tudo bem?", chat_id=42, message_id=9, first_name="Ana"))
    assert (got.contact_external_id, got.text, got.channel_message_id) == ("42", "Oi, tudo bem?", "42:9")
    assert got.contact_name == "Ana" and got.content.is_empty()


def test_media_keeps_the_largest_photo_the_voice_note_and_the_documents_name() -> None:
    photo = inbound(photo_update("AgAC-big", caption="chegou assim", chat_id=7))
    assert photo.text == "chegou assim"
    assert photo.content.attachments == (
        Attachment(kind="image", file_id="AgAC-big", mime_type="image/jpeg", size=65_432),
    )
    voice = inbound(voice_update("AwAC-voice", file_size=9_876))
    assert voice.text == "" and voice.content.attachments[0].kind == "voice"
    assert voice.content.attachments[0].mime_type == "audio/ogg"
    document = inbound(document_update("BQAC-doc", file_name="boleto.pdf", mime_type="application/pdf"))
    [attached] = document.content.attachments
    assert (attached.kind, attached.file_name, attached.mime_type) == (
        "document",
        "boleto.pdf",
        "application/pdf",
    )


def test_a_location_a_contact_card_and_a_reply_are_kept() -> None:
    place = inbound(location_update(-23.5505, -46.6333))
    assert place.content.location == Location(latitude=-23.5505, longitude=-46.6333)
    card = inbound(contact_update("+5511999990000", first_name="Bruno", last_name="Lima"))
    assert card.content.contact_card == ContactCard(name="Bruno Lima", phone="+5511999990000")
    earlier = message(chat_id=5, message_id=3, text="Qual o prazo?")
    reply = inbound(reply_update("e para o Norte?", reply_to=earlier))
    assert reply.content.quoted == "5:3"


def test_edits_other_update_kinds_and_the_bots_own_messages_are_not_new_customer_messages() -> None:
    assert inbound(edited_update("corrigido")) is None
    assert inbound(unknown_update()) is None
    bot_said = text_update("eco")
    bot_said["message"]["from"]["is_bot"] = True  # type: ignore[index]
    assert inbound(bot_said) is None


def test_outbound_text_lists_each_cited_document_once_after_the_reply() -> None:
    message_ = outgoing(
        "Parcelamos em até 10 vezes [1].",
        citations=[
            {"document": "formas-de-pagamento.md", "title": "Formas de pagamento"},
            {"document": "formas-de-pagamento.md", "title": "Formas de pagamento"},
            {"document": "frete.md", "title": ""},
        ],
    )
    assert (
        text_with_sources(message_)
        == "Parcelamos em até 10 vezes [1].\n\n📄 Formas de pagamento\n📄 frete.md"
    )
    assert text_with_sources(outgoing("Olá!", citations=[])) == "Olá!"
