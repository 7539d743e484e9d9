"""WhatsApp by QR code (neonize): neonize's own events and messages as Atende messages, and back.

The events are the real protobufs neonize hands its handlers; no WhatsApp connection is involved.
"""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from neonize.aioze.events import MessageEv, ReceiptEv
from neonize.proto.Neonize_pb2 import JID, MessageInfo, MessageSource
from neonize.proto.waE2E.WAWebProtobufsE2E_pb2 import (
    AudioMessage,
    ButtonsResponseMessage,
    ContactMessage,
    ContextInfo,
    DeviceSentMessage,
    DocumentMessage,
    ExtendedTextMessage,
    FutureProofMessage,
    ImageMessage,
    ListResponseMessage,
    LocationMessage,
    ProtocolMessage,
    ReactionMessage,
    StickerMessage,
    VideoMessage,
)
from neonize.proto.waE2E.WAWebProtobufsE2E_pb2 import Message as WAMessage

from channels.base import Attachment, ChannelAccess, DeliveryFailedError
from channels.media_store import LocalMediaStore
from channels.models import DeliveryStatus
from channels.whatsapp_neonize import (
    NeonizeAdapter,
    OutboundSend,
    SessionNotConnectedError,
    inbound_from_event,
    media_message,
    outbound_sends,
    owner_reply_from_event,
    recipient_jid,
    statuses_from_receipt,
)
from tests.channels.outgoing import outgoing
from tests.conftest import LiveServer, run_cli
from tests.helpers import login

CUSTOMER = "5511987654321"


def jid(user: str, server: str = "s.whatsapp.net") -> JID:
    return JID(User=user, Server=server, RawAgent=0, Device=0, Integrator=0, IsEmpty=False)


def event(
    message: WAMessage,
    *,
    message_id: str = "3EB0C431C26A1916E07A",
    sender: JID | None = None,
    chat: JID | None = None,
    from_me: bool = False,
    group: bool = False,
    push_name: str = "Maria Souza",
) -> MessageEv:
    sender = sender or jid(CUSTOMER)
    source = MessageSource(Chat=chat or sender, Sender=sender, IsFromMe=from_me, IsGroup=group)
    info = MessageInfo(
        MessageSource=source, ID=message_id, Pushname=push_name, Timestamp=1_764_000_000, Type="text"
    )
    return MessageEv(Info=info, Message=message)


MEDIA_KEY = bytes(range(32))
DIRECT_PATH = "/v/t62.7118-24/12345_67890.enc?ccb=11-4&oh=01_Q5Aa&oe=6a000000&_nc_sid=5e03e0"


# ---- inbound ---------------------------------------------------------------------------------------


def test_a_text_becomes_the_customers_message_with_their_number_and_name() -> None:
    inbound = inbound_from_event(event(WAMessage(conversation="Qual o prazo de entrega?")))

    assert inbound is not None
    assert inbound.text == "Qual o prazo de entrega?"
    assert inbound.contact_external_id == CUSTOMER
    assert inbound.contact_name == "Maria Souza"
    assert inbound.channel_message_id == "3EB0C431C26A1916E07A"
    assert inbound.content.is_empty() and inbound.content.quoted is None


def test_a_reply_keeps_the_id_of_the_message_it_answers() -> None:
    reply = ExtendedTextMessage(
        text="Esse mesmo, obrigado", contextInfo=ContextInfo(stanzaID="3EB0AAAA", participant="x")
    )
    inbound = inbound_from_event(event(WAMessage(extendedTextMessage=reply)))

    assert inbound is not None
    assert inbound.text == "Esse mesmo, obrigado"
    assert inbound.content.quoted == "3EB0AAAA"


def test_a_customer_known_only_by_a_privacy_id_uses_the_phone_number_when_whatsapp_gives_it() -> None:
    lid = jid("181818181818181", "lid")
    with_phone = event(WAMessage(conversation="oi"), sender=lid)
    with_phone.Info.MessageSource.SenderAlt.CopyFrom(jid(CUSTOMER))
    only_lid = event(WAMessage(conversation="oi"), sender=lid)

    assert (inbound := inbound_from_event(with_phone)) and inbound.contact_external_id == CUSTOMER
    assert (inbound := inbound_from_event(only_lid)) and inbound.contact_external_id == "181818181818181@lid"
    assert recipient_jid("181818181818181@lid").Server == "lid"


def test_a_photo_with_a_caption_carries_its_file_and_what_is_needed_to_download_it() -> None:
    photo = ImageMessage(
        URL="https://mmg.whatsapp.net/v/t62.7118-24/12345.enc",
        mimetype="image/jpeg",
        caption="Chegou assim, quebrado",
        fileLength=48_213,
        mediaKey=MEDIA_KEY,
        directPath=DIRECT_PATH,
        fileSHA256=b"s" * 32,
        fileEncSHA256=b"e" * 32,
        JPEGThumbnail=b"\xff\xd8" + b"t" * 4000,
        contextInfo=ContextInfo(stanzaID="3EB0BBBB"),
    )
    inbound = inbound_from_event(event(WAMessage(imageMessage=photo)))

    assert inbound is not None
    assert inbound.text == "Chegou assim, quebrado"
    assert inbound.content.quoted == "3EB0BBBB"
    (attachment,) = inbound.content.attachments
    assert (attachment.kind, attachment.mime_type, attachment.size) == ("image", "image/jpeg", 48_213)
    downloadable = media_message(attachment.file_id)
    assert downloadable.imageMessage.directPath == DIRECT_PATH
    assert downloadable.imageMessage.mediaKey == MEDIA_KEY
    assert downloadable.imageMessage.fileEncSHA256 == b"e" * 32
    # The thumbnail and the caption are not kept twice: the stored id stays small.
    assert not downloadable.imageMessage.JPEGThumbnail and not downloadable.imageMessage.caption
    assert len(attachment.file_id) < 600


@pytest.mark.parametrize(
    ("message", "kind", "mime", "size", "name", "text"),
    [
        (
            WAMessage(videoMessage=VideoMessage(mimetype="video/mp4", fileLength=2_000_000, caption="veja")),
            "video",
            "video/mp4",
            2_000_000,
            None,
            "veja",
        ),
        (
            WAMessage(
                audioMessage=AudioMessage(mimetype="audio/ogg; codecs=opus", fileLength=9_000, PTT=True)
            ),
            "voice",
            "audio/ogg; codecs=opus",
            9_000,
            None,
            "",
        ),
        (
            WAMessage(audioMessage=AudioMessage(mimetype="audio/mpeg", fileLength=3_000_000, PTT=False)),
            "audio",
            "audio/mpeg",
            3_000_000,
            None,
            "",
        ),
        (
            WAMessage(
                documentMessage=DocumentMessage(
                    mimetype="application/pdf", fileLength=120_000, fileName="nota-fiscal.pdf", caption="NF"
                )
            ),
            "document",
            "application/pdf",
            120_000,
            "nota-fiscal.pdf",
            "NF",
        ),
        (
            WAMessage(stickerMessage=StickerMessage(mimetype="image/webp", fileLength=20_000)),
            "sticker",
            "image/webp",
            20_000,
            None,
            "",
        ),
    ],
    ids=["video", "voice-note", "audio-file", "document", "sticker"],
)
def test_each_kind_of_media_keeps_its_kind_type_size_and_name(
    message: WAMessage, kind: str, mime: str, size: int, name: str | None, text: str
) -> None:
    inbound = inbound_from_event(event(message))

    assert inbound is not None
    assert inbound.text == text
    (attachment,) = inbound.content.attachments
    assert (attachment.kind, attachment.mime_type, attachment.size, attachment.file_name) == (
        kind,
        mime,
        size,
        name,
    )


def test_a_captioned_document_inside_its_wrapper_is_still_a_document() -> None:
    wrapped = WAMessage(
        documentWithCaptionMessage=FutureProofMessage(
            message=WAMessage(
                documentMessage=DocumentMessage(
                    mimetype="application/pdf", fileName="boleto.pdf", caption="Pago"
                )
            )
        )
    )
    inbound = inbound_from_event(event(wrapped))

    assert inbound is not None and inbound.text == "Pago"
    assert inbound.content.attachments[0].file_name == "boleto.pdf"


def test_a_shared_location_keeps_its_place() -> None:
    place = LocationMessage(
        degreesLatitude=-23.5614,
        degreesLongitude=-46.6559,
        name="Loja Paulista",
        address="Av. Paulista, 1000",
    )
    inbound = inbound_from_event(event(WAMessage(locationMessage=place)))

    assert inbound is not None and inbound.content.location is not None
    location = inbound.content.location
    assert (location.latitude, location.longitude) == (-23.5614, -46.6559)
    assert (location.name, location.address) == ("Loja Paulista", "Av. Paulista, 1000")


def test_a_shared_contact_keeps_the_name_and_the_phone_of_its_vcard() -> None:
    vcard = (
        "BEGIN:VCARD\nVERSION:3.0\nN:Lima;João;;;\nFN:João Lima\n"
        "item1.TEL;waid=5521912345678:+55 21 91234-5678\nitem1.X-ABLabel:Celular\nEND:VCARD"
    )
    inbound = inbound_from_event(
        event(WAMessage(contactMessage=ContactMessage(displayName="João Lima", vcard=vcard)))
    )

    assert inbound is not None and inbound.content.contact_card is not None
    assert inbound.content.contact_card.name == "João Lima"
    assert inbound.content.contact_card.phone == "+55 21 91234-5678"


def test_a_tapped_button_or_list_item_arrives_as_its_text() -> None:
    button = WAMessage(
        buttonsResponseMessage=ButtonsResponseMessage(selectedDisplayText="Falar com atendente")
    )
    item = WAMessage(listResponseMessage=ListResponseMessage(title="Segunda via do boleto"))

    assert (inbound := inbound_from_event(event(button))) and inbound.text == "Falar com atendente"
    assert (inbound := inbound_from_event(event(item))) and inbound.text == "Segunda via do boleto"


def test_own_messages_groups_status_updates_and_protocol_messages_are_not_customers_messages() -> None:
    text = WAMessage(conversation="oi")
    reaction = WAMessage(reactionMessage=ReactionMessage(text="👍"))
    deletion = WAMessage(protocolMessage=ProtocolMessage(type=ProtocolMessage.REVOKE))

    assert inbound_from_event(event(text, from_me=True)) is None
    assert inbound_from_event(event(text, group=True, chat=jid("120363012345678901", "g.us"))) is None
    assert inbound_from_event(event(text, chat=jid("status", "broadcast"))) is None
    assert inbound_from_event(event(reaction)) is None
    assert inbound_from_event(event(deletion)) is None


# ---- the business's own replies, from its phone -----------------------------------------------------

BUSINESS = "5511900001111"


def from_phone(message: WAMessage, *, chat: JID | None = None, group: bool = False) -> MessageEv:
    """What the business's phone sent, as this linked device hears it: from itself, to the chat."""
    sent = event(message, sender=jid(BUSINESS), chat=chat or jid(CUSTOMER), from_me=True, group=group)
    sent.Info.ID = "3EB0PHONE0000001"
    sent.Info.Timestamp = 1_764_000_000_123  # neonize gives milliseconds
    return sent


def test_what_the_business_sends_from_its_phone_is_its_reply_to_that_customer() -> None:
    reply = owner_reply_from_event(from_phone(WAMessage(conversation="Oi Maria, aqui é a Joana!")))

    assert reply is not None
    assert reply.text == "Oi Maria, aqui é a Joana!"
    assert reply.contact_external_id == CUSTOMER, "the customer it went to, not the business"
    assert reply.channel_message_id == "3EB0PHONE0000001"
    assert reply.sent_at == datetime.datetime(2025, 11, 24, 16, 0, 0, 123_000, tzinfo=datetime.UTC)
    assert inbound_from_event(from_phone(WAMessage(conversation="oi"))) is None, "never a customer's"


def test_a_reply_from_the_phone_keeps_its_photo_and_reaches_a_customer_known_by_a_privacy_id() -> None:
    photo = ImageMessage(mimetype="image/jpeg", caption="Seu pedido", fileLength=1_000, mediaKey=MEDIA_KEY)
    to_lid = from_phone(WAMessage(imageMessage=photo), chat=jid("181818181818181", "lid"))
    to_lid.Info.MessageSource.RecipientAlt.CopyFrom(jid(CUSTOMER))
    only_lid = from_phone(WAMessage(conversation="oi"), chat=jid("181818181818181", "lid"))
    # Other devices of the account get what the phone sent wrapped, with the chat it went to.
    wrapped = WAMessage(
        deviceSentMessage=DeviceSentMessage(
            destinationJID=f"{CUSTOMER}@s.whatsapp.net", message=WAMessage(conversation="Já enviei!")
        )
    )

    reply = owner_reply_from_event(to_lid)
    assert reply is not None and reply.contact_external_id == CUSTOMER
    assert reply.text == "Seu pedido"
    (attachment,) = reply.content.attachments
    assert attachment.kind == "image" and media_message(attachment.file_id).imageMessage.mediaKey == MEDIA_KEY
    lid_reply, wrapped_reply = owner_reply_from_event(only_lid), owner_reply_from_event(from_phone(wrapped))
    assert lid_reply and lid_reply.contact_external_id == "181818181818181@lid"
    assert wrapped_reply and wrapped_reply.text == "Já enviei!"


def test_the_business_in_groups_status_updates_notes_to_itself_and_reactions_is_no_reply() -> None:
    text = WAMessage(conversation="Bom dia, pessoal!")
    reaction = WAMessage(reactionMessage=ReactionMessage(text="👍"))
    deletion = WAMessage(protocolMessage=ProtocolMessage(type=ProtocolMessage.REVOKE))

    assert owner_reply_from_event(event(text)) is None, "a customer's message is no reply of the business"
    assert (
        owner_reply_from_event(from_phone(text, chat=jid("120363012345678901", "g.us"), group=True)) is None
    )
    assert owner_reply_from_event(from_phone(text, chat=jid("status", "broadcast"))) is None
    assert owner_reply_from_event(from_phone(text, chat=jid(BUSINESS))) is None  # a note to itself
    assert owner_reply_from_event(from_phone(reaction)) is None
    assert owner_reply_from_event(from_phone(deletion)) is None


# ---- receipts --------------------------------------------------------------------------------------


def receipt(kind: int, *ids: str, group: bool = False, from_me: bool = False) -> ReceiptEv:
    source = MessageSource(Chat=jid(CUSTOMER), Sender=jid(CUSTOMER), IsGroup=group, IsFromMe=from_me)
    return ReceiptEv(MessageSource=source, MessageIDs=list(ids), Timestamp=1_764_000_100, Type=kind)


def test_receipts_move_the_status_of_the_messages_they_name() -> None:
    assert statuses_from_receipt(receipt(ReceiptEv.DELIVERED, "3EB0A", "3EB0B")) == [
        ("3EB0A", DeliveryStatus.DELIVERED),
        ("3EB0B", DeliveryStatus.DELIVERED),
    ]
    assert statuses_from_receipt(receipt(ReceiptEv.READ, "3EB0A")) == [("3EB0A", DeliveryStatus.READ)]
    assert statuses_from_receipt(receipt(ReceiptEv.PLAYED, "3EB0C")) == [("3EB0C", DeliveryStatus.READ)]


def test_receipts_of_other_kinds_in_groups_or_from_own_devices_say_nothing() -> None:
    assert statuses_from_receipt(receipt(ReceiptEv.RETRY, "3EB0A")) == []
    assert statuses_from_receipt(receipt(ReceiptEv.READ_SELF, "3EB0A")) == []
    assert statuses_from_receipt(receipt(ReceiptEv.READ, "3EB0A", group=True)) == []
    assert statuses_from_receipt(receipt(ReceiptEv.READ, "3EB0A", from_me=True)) == []


# ---- outbound --------------------------------------------------------------------------------------


def test_a_reply_is_sent_as_text_followed_by_the_sources_it_cites() -> None:
    message = outgoing(
        "Você pode trocar em até 30 dias.",
        citations=[
            {"document": "trocas.md", "title": "Política de trocas", "chunk": "c1"},
            {"document": "trocas.md", "title": "Política de trocas", "chunk": "c2"},
        ],
    )

    assert outbound_sends(message) == [
        OutboundSend("text", text="Você pode trocar em até 30 dias.\n\n📄 Política de trocas")
    ]
    assert recipient_jid(CUSTOMER).User == CUSTOMER
    assert recipient_jid(CUSTOMER).Server == "s.whatsapp.net"


def test_an_image_goes_with_the_text_as_its_caption() -> None:
    image = {"kind": "image", "file_id": "up-1", "path": "t1/abc.jpg", "mime_type": "image/jpeg"}

    assert outbound_sends(outgoing("Segue a foto da etiqueta", image)) == [
        OutboundSend("image", text="Segue a foto da etiqueta", path="t1/abc.jpg", mime_type="image/jpeg")
    ]


def test_a_document_keeps_its_name_and_type_and_only_the_first_file_is_captioned() -> None:
    invoice = {
        "kind": "document",
        "file_id": "up-2",
        "path": "t1/def.pdf",
        "file_name": "fatura.pdf",
        "mime_type": "application/pdf",
    }
    video = {"kind": "video", "file_id": "up-3", "path": "t1/ghi.mp4", "mime_type": "video/mp4"}

    assert outbound_sends(outgoing("Sua fatura", invoice, video)) == [
        OutboundSend(
            "document",
            text="Sua fatura",
            path="t1/def.pdf",
            file_name="fatura.pdf",
            mime_type="application/pdf",
        ),
        OutboundSend("document", path="t1/ghi.mp4", mime_type="video/mp4"),
    ]


def test_a_voice_note_has_no_caption_so_its_text_goes_first() -> None:
    voice = {"kind": "voice", "file_id": "up-4", "path": "t1/v.ogg", "mime_type": "audio/ogg"}

    assert outbound_sends(outgoing("Ouça a explicação", voice)) == [
        OutboundSend("text", text="Ouça a explicação"),
        OutboundSend("voice", path="t1/v.ogg", mime_type="audio/ogg"),
    ]


async def test_a_channel_that_is_not_paired_fails_delivery_with_a_reason_the_inbox_shows(
    tmp_path: Path,
) -> None:
    adapter = NeonizeAdapter(tmp_path, LocalMediaStore(tmp_path / "media"))
    channel = ChannelAccess(uuid.uuid4(), uuid.uuid4(), "whatsapp-neonize", {}, {})

    with pytest.raises(DeliveryFailedError) as failed:
        await adapter.deliver(channel, CUSTOMER, outgoing("Olá"))
    assert not failed.value.retryable  # trying again will not help until an admin pairs the number
    assert "pair it by QR code" in failed.value.reason
    assert adapter.pairing(channel.id).state == "logged_out"
    assert adapter.session_path(channel.id) == tmp_path / "whatsapp" / f"{channel.id}.sqlite3"
    with pytest.raises(SessionNotConnectedError):
        await adapter.fetch_media(channel, Attachment(kind="image", file_id="x"))


# ---- the admin's pairing view ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def client(live_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        yield http


def test_a_new_whatsapp_channel_is_not_paired_and_other_tenants_cannot_see_its_pairing(
    client: httpx.Client, live_server: LiveServer
) -> None:
    added = run_cli(
        live_server.data_dir,
        *("channel", "add", "--tenant", "demo", "--type", "whatsapp-neonize", "--name", "loja-qr", "--json"),
    )
    assert added.returncode == 0, added.stderr
    channel_id = json.loads(added.stdout)["id"]
    admin = login(client, live_server.admin)

    pairing = client.get(f"/api/v1/admin/channels/{channel_id}/pairing", headers=admin)
    assert pairing.status_code == 200, pairing.text
    assert pairing.json() == {"state": "logged_out", "qr": None, "qr_svg": None}
    listed = client.get("/api/v1/admin/channels", headers=admin).json()
    assert any(c["id"] == channel_id and c["type"] == "whatsapp-neonize" for c in listed)

    rival_tenant = f"rival-{uuid.uuid4().hex[:8]}"
    rival = (f"admin@{rival_tenant}.example", "rival-admin-pass")
    assert run_cli(live_server.data_dir, "tenant", "create", rival_tenant).returncode == 0
    created = run_cli(
        live_server.data_dir,
        *("user", "create", "--tenant", rival_tenant, "--email", rival[0], "--password", rival[1]),
        *("--role", "admin"),
    )
    assert created.returncode == 0, created.stderr
    theirs = login(client, rival)
    assert client.get(f"/api/v1/admin/channels/{channel_id}/pairing", headers=theirs).status_code == 404
    assert client.post(f"/api/v1/admin/channels/{channel_id}/pairing", headers=theirs).status_code == 404
    unknown = client.get(f"/api/v1/admin/channels/{uuid.uuid4()}/pairing", headers=admin)
    assert unknown.status_code == 404
    agent = login(client, live_server.agent)
    assert client.get(f"/api/v1/admin/channels/{channel_id}/pairing", headers=agent).status_code == 403
