"""The business answers a customer from its own phone (WhatsApp by QR code): a person took over.

Through the pipeline as the neonize sessions reach it (``PipelineHost.owner_replied``), on the real
database: the reply is kept as a person's message, the bot stops answering that conversation, its
ticket opens; echoes of what Atende itself sent, and the same reply twice, change nothing.
"""

from __future__ import annotations

import asyncio
import datetime
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from agents.record import DecisionRecord
from channels.base import InboundMessage, OwnerReply
from channels.models import Author, Channel, Conversation, ConversationMode, DeliveryStatus, Message
from channels.service import add_bot_message, get_or_create_channel, get_or_create_conversation
from conversations.channel_host import PipelineHost
from conversations.owner_replies import ANSWERED_FROM_PHONE, owner_replied
from conversations.receive import accept
from conversations.services import Services
from conversations.turn import run_turn
from core.accounts import Tenant
from handoff.models import Ticket, TicketStatus
from tests.conftest import MakeTenant
from tests.conversations.gated_llm import Gate, RecordingPublisher, tenant_with_llm
from tests.fakes.llm_servers import FakeOpenAI

CUSTOMER = "5511987654321"


def _reply(text: str = "Oi Maria, aqui é a Joana da loja. Já separei seu pedido!", **kw: Any) -> OwnerReply:
    values: dict[str, Any] = {
        "contact_external_id": CUSTOMER,
        "text": text,
        "channel_message_id": f"3EB0{uuid.uuid4().hex[:16].upper()}",
        "sent_at": datetime.datetime.now(datetime.UTC),
    }
    return OwnerReply(**{**values, **kw})


async def _whatsapp(services: Services, tenant: Tenant) -> Channel:
    async with services.database.sessionmaker.begin() as session:
        return await get_or_create_channel(session, tenant.id, "whatsapp-neonize", "loja")


async def _customer_writes(services: Services, channel: Channel, text: str) -> uuid.UUID:
    inbound = InboundMessage(CUSTOMER, text, f"3EB0{uuid.uuid4().hex[:16].upper()}", "Maria Souza")
    received = await accept(services, channel, inbound)
    return received.message_id


async def _messages(services: Services, tenant: Tenant) -> list[Message]:
    async with services.database.sessionmaker() as session:
        return list(
            await session.scalars(
                select(Message).where(Message.tenant_id == tenant.id).order_by(Message.created_at, Message.id)
            )
        )


async def _tickets(services: Services, tenant: Tenant) -> list[Ticket]:
    async with services.database.sessionmaker() as session:
        return list(await session.scalars(select(Ticket).where(Ticket.tenant_id == tenant.id)))


async def _mode(services: Services, tenant: Tenant) -> str | None:
    async with services.database.sessionmaker() as session:
        return await session.scalar(select(Conversation.mode).where(Conversation.tenant_id == tenant.id))


@pytest.fixture
def publisher(services: Services, monkeypatch: pytest.MonkeyPatch) -> RecordingPublisher:
    recording = RecordingPublisher()
    monkeypatch.setattr(services, "publisher", recording)
    return recording


async def test_a_reply_from_the_phone_is_a_persons_message_and_the_bot_stops_answering(
    services: Services, make_tenant: MakeTenant, publisher: RecordingPublisher
) -> None:
    tenant = await make_tenant()
    channel = await _whatsapp(services, tenant)
    asked = await _customer_writes(services, channel, "Como tiro a segunda via do boleto?")
    first = await run_turn(services, asked)
    assert first.reply and not first.escalated, "the bot answers while nobody has stepped in"

    reply = _reply()
    heard_before = len(publisher.events)
    await PipelineHost(services).owner_replied(channel, reply)

    stored = (await _messages(services, tenant))[-1]
    assert (stored.text, stored.author, stored.direction) == (reply.text, Author.AGENT, "outbound")
    assert stored.author_user_id is None
    assert stored.channel_message_id == reply.channel_message_id
    record = DecisionRecord.from_json(stored.decision)
    assert (record.action, record.rule, record.reason) == ("human", "owner_phone", ANSWERED_FROM_PHONE)
    assert await _mode(services, tenant) == ConversationMode.HUMAN
    [ticket] = await _tickets(services, tenant)
    assert ticket.reason == ANSWERED_FROM_PHONE
    assert ticket.status != TicketStatus.CLOSED
    assert ticket.first_response_at is not None

    inbox = [event for stream, event in publisher.events[heard_before:] if stream.startswith("inbox:")]
    assert [e["type"] for e in inbox] == ["message.created", "ticket.created"]
    assert inbox[0]["message"]["text"] == reply.text
    assert inbox[1]["ticket"]["id"] == str(ticket.id)

    # The customer writes again: the message waits for a person, the bot says nothing.
    later = await _customer_writes(services, channel, "E como pago o boleto pelo aplicativo?")
    silent = await run_turn(services, later)
    assert silent.reply is None
    assert silent.decision.rule == "human_mode"
    assert silent.ticket_id == str(ticket.id)
    bot_messages = [m for m in await _messages(services, tenant) if m.author == Author.BOT]
    assert len(bot_messages) == 1, "only the answer from before the business stepped in"


async def test_a_reply_to_a_conversation_with_an_open_ticket_counts_on_that_ticket(
    services: Services, make_tenant: MakeTenant, publisher: RecordingPublisher
) -> None:
    tenant = await make_tenant(with_kb=False)
    channel = await _whatsapp(services, tenant)
    escalation = await run_turn(
        services, await _customer_writes(services, channel, "quero falar com um atendente")
    )
    assert escalation.escalated and escalation.ticket_id

    await PipelineHost(services).owner_replied(channel, _reply("Oi! Sou eu, a dona da loja."))

    [ticket] = await _tickets(services, tenant)
    assert str(ticket.id) == escalation.ticket_id
    assert ticket.reason == "the customer asked to talk to a person"
    assert ticket.first_response_at is not None
    inbox = [event["type"] for stream, event in publisher.events if stream.startswith("inbox:")]
    assert inbox[-2:] == ["message.created", "ticket.updated"]


async def test_an_echo_of_what_the_bot_sent_and_the_same_reply_twice_change_nothing(
    services: Services, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant(with_kb=False)
    channel = await _whatsapp(services, tenant)
    bot_sent_as = "3EB0BOTREPLY0001"
    async with services.database.sessionmaker.begin() as session:
        _, conversation = await get_or_create_conversation(session, channel, CUSTOMER, "Maria")
        sent = add_bot_message(session, conversation, "Seu pedido sai amanhã.")
        sent.delivery_status, sent.delivered_as = DeliveryStatus.SENT, bot_sent_as

    host = PipelineHost(services)
    await host.owner_replied(channel, _reply("Seu pedido sai amanhã.", channel_message_id=bot_sent_as))
    assert await _mode(services, tenant) == ConversationMode.BOT
    assert await _tickets(services, tenant) == []
    assert len(await _messages(services, tenant)) == 1

    reply = _reply()
    await asyncio.gather(host.owner_replied(channel, reply), host.owner_replied(channel, reply))
    await host.owner_replied(channel, reply)
    texts = [m.text for m in await _messages(services, tenant)]
    assert texts == ["Seu pedido sai amanhã.", reply.text]
    assert len(await _tickets(services, tenant)) == 1


async def test_each_tenant_sees_only_the_replies_of_its_own_phone(
    services: Services, make_tenant: MakeTenant
) -> None:
    """Two businesses talk to the same customer; an id one of them delivered means nothing to the other."""
    shop, bakery = await make_tenant(with_kb=False), await make_tenant(with_kb=False)
    shop_channel, bakery_channel = await _whatsapp(services, shop), await _whatsapp(services, bakery)
    shared_id = "3EB0SAMEIDBOTH01"
    async with services.database.sessionmaker.begin() as session:
        _, conversation = await get_or_create_conversation(session, shop_channel, CUSTOMER, "Maria")
        sent = add_bot_message(session, conversation, "Loja: seu pedido sai amanhã.")
        sent.delivery_status, sent.delivered_as = DeliveryStatus.SENT, shared_id

    await PipelineHost(services).owner_replied(
        bakery_channel, _reply("Padaria: seu bolo está pronto!", channel_message_id=shared_id)
    )

    assert [m.text for m in await _messages(services, bakery)] == ["Padaria: seu bolo está pronto!"]
    assert [t.reason for t in await _tickets(services, bakery)] == [ANSWERED_FROM_PHONE]
    assert await _mode(services, bakery) == ConversationMode.HUMAN
    assert [m.text for m in await _messages(services, shop)] == ["Loja: seu pedido sai amanhã."]
    assert await _tickets(services, shop) == []
    assert await _mode(services, shop) == ConversationMode.BOT
    async with services.database.sessionmaker() as session:
        conversations = await session.scalar(
            select(func.count()).select_from(Conversation).where(Conversation.tenant_id == bakery.id)
        )
    assert conversations == 1


async def test_a_bot_reply_being_written_when_the_phone_answers_is_never_sent(
    services: Services, make_tenant: MakeTenant, llm: FakeOpenAI, gate: Gate
) -> None:
    tenant = await tenant_with_llm(services, make_tenant, llm)
    channel = await _whatsapp(services, tenant)
    asked = await _customer_writes(services, channel, "Como tiro a segunda via do boleto?")
    turn = asyncio.create_task(run_turn(services, asked))
    await asyncio.to_thread(gate.wait_for_waiting, 1)

    await PipelineHost(services).owner_replied(channel, _reply("Te mando agora pelo e-mail, Maria."))
    gate.opened.set()
    result = await turn

    assert result.reply is None and result.decision.suppressed
    async with services.database.sessionmaker() as session:
        bot_reply = await session.scalar(select(Message).where(Message.reply_to_id == asked))
        assert bot_reply is not None
        assert bot_reply.delivery_status == DeliveryStatus.SUPPRESSED
        jobs = await session.scalar(
            select(func.count())
            .select_from(Message)
            .where(Message.tenant_id == tenant.id, Message.delivery_status == DeliveryStatus.PENDING)
        )
    assert jobs == 0, "nothing waits to be sent to the customer"


async def test_an_old_reply_replayed_after_a_reconnect_is_history_and_takes_nothing_over(
    services: Services, make_tenant: MakeTenant, publisher: RecordingPublisher
) -> None:
    tenant = await make_tenant()
    channel = await _whatsapp(services, tenant)
    asked = await _customer_writes(services, channel, "Como tiro a segunda via do boleto?")
    assert (await run_turn(services, asked)).reply, "the bot answers"

    an_hour_ago = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)
    late = await owner_replied(services, channel, _reply("Oi! Respondendo agora.", sent_at=an_hour_ago))

    assert late is not None and late.ticket_id is None
    texts = [m.text for m in await _messages(services, tenant)]
    assert texts[0] == "Oi! Respondendo agora.", "kept in the history, in its place in time"
    assert await _mode(services, tenant) == ConversationMode.BOT
    assert await _tickets(services, tenant) == []
    later = await _customer_writes(services, channel, "E como pago o boleto pelo aplicativo?")
    assert (await run_turn(services, later)).reply, "the bot still answers"
