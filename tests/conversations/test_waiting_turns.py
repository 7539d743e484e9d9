"""Turns wait on the LLM holding nothing: no transaction, no row lock. Turns of different conversations
wait side by side, those of one conversation run in order, and a person who takes the conversation
while the bot is still writing keeps the bot's reply from the customer.

The real OpenAI SDK talks to a loopback server whose answers the tests hold back with a gate
(tests/conversations/gated_llm.py).
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import select, text

from agents.record import DecisionRecord
from channels.base import InboundMessage
from channels.models import Conversation, DeliveryStatus, Message
from channels.webchat import WebChatAdapter
from conversations import ticket_actions
from conversations.message_reads import webchat_transcript
from conversations.receive import accept_on_default_channel
from conversations.services import Services
from conversations.turn import run_turn
from core.accounts import Actor, Role, Tenant, create_user
from handoff.models import Ticket
from tests.conftest import MakeTenant
from tests.conversations.gated_llm import Gate, RecordingPublisher, tenant_with_llm
from tests.fakes.llm_servers import FakeOpenAI

QUESTION = "Como tiro a segunda via do boleto?"


async def _accept(services: Services, tenant: Tenant, session_id: str, text_: str = QUESTION) -> uuid.UUID:
    inbound = InboundMessage(session_id, text_, channel_message_id=uuid.uuid4().hex)
    message_id, _ = await accept_on_default_channel(services, tenant, "webchat", inbound)
    return message_id


async def test_a_turn_waiting_on_the_llm_holds_no_transaction_and_no_row_lock(
    services: Services, make_tenant: MakeTenant, llm: FakeOpenAI, gate: Gate
) -> None:
    tenant = await tenant_with_llm(services, make_tenant, llm)
    message_id = await _accept(services, tenant, f"s-{uuid.uuid4().hex[:8]}")
    turn = asyncio.create_task(run_turn(services, message_id))
    await asyncio.to_thread(gate.wait_for_waiting, 1)

    async with services.database.sessionmaker.begin() as session:
        message = await session.get_one(Message, message_id)
        locked = await session.scalar(
            select(Conversation.id)
            .where(Conversation.id == message.conversation_id)
            .with_for_update(nowait=True)
        )
        assert locked == message.conversation_id
        await session.execute(select(Message.id).where(Message.id == message_id).with_for_update(nowait=True))
        in_transaction = await session.scalar(
            text(
                "select count(*) from pg_stat_activity where datname = current_database()"
                " and state like 'idle in transaction%' and pid <> pg_backend_pid()"
            )
        )
    assert in_transaction == 0

    gate.opened.set()
    result = await turn
    assert result.reply is not None and "Financeiro" in result.reply


async def test_turns_of_many_conversations_wait_on_the_llm_together(
    services: Services, make_tenant: MakeTenant, llm: FakeOpenAI, gate: Gate
) -> None:
    tenant = await tenant_with_llm(services, make_tenant, llm)
    customers = 6
    ids = [await _accept(services, tenant, f"s-{uuid.uuid4().hex[:8]}") for _ in range(customers)]
    turns = [asyncio.create_task(run_turn(services, message_id)) for message_id in ids]

    await asyncio.to_thread(gate.wait_for_waiting, customers)
    gate.opened.set()
    results = await asyncio.gather(*turns)

    assert gate.most_waiting == customers
    assert all(r.reply and "Financeiro" in r.reply for r in results)


async def test_turns_of_one_conversation_run_in_order_each_answered_once(
    services: Services, make_tenant: MakeTenant, llm: FakeOpenAI, gate: Gate
) -> None:
    tenant = await tenant_with_llm(services, make_tenant, llm)
    session_id = f"s-{uuid.uuid4().hex[:8]}"
    first = await _accept(services, tenant, session_id, "Como tiro a segunda via do boleto?")
    second = await _accept(services, tenant, session_id, "E como pago o boleto pelo aplicativo?")
    gate.opened.set()

    # The later message's job starts first; the earlier message is still answered first.
    late = asyncio.create_task(run_turn(services, second))
    await asyncio.to_thread(llm.wait_for_requests, 1)
    early = asyncio.create_task(run_turn(services, first))
    await asyncio.gather(late, early)

    async with services.database.sessionmaker() as session:
        replies = list(
            await session.scalars(
                select(Message.reply_to_id)
                .where(Message.tenant_id == tenant.id, Message.reply_to_id.in_([first, second]))
                .order_by(Message.created_at)
            )
        )
    assert replies == [first, second]
    questions = [r.body["messages"][-1]["content"] for r in llm.requests]
    assert "segunda via" in str(questions[0]) and "pago" in str(questions[-1])


async def test_a_person_taking_the_conversation_mid_answer_keeps_the_bot_reply_from_the_customer(
    services: Services,
    make_tenant: MakeTenant,
    llm: FakeOpenAI,
    gate: Gate,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tenant = await tenant_with_llm(services, make_tenant, llm)
    publisher = RecordingPublisher()
    monkeypatch.setitem(services.adapters, "webchat", WebChatAdapter(publisher))
    monkeypatch.setattr(services, "publisher", publisher)
    async with services.database.sessionmaker.begin() as session:
        user = await create_user(
            session, tenant, f"a{uuid.uuid4().hex[:6]}@example.com", "pw-12345678", Role.AGENT
        )
    agent = Actor(user.id, tenant.id, "Ana", Role.AGENT)
    session_id = f"s-{uuid.uuid4().hex[:8]}"
    message_id = await _accept(services, tenant, session_id)
    async with services.database.sessionmaker() as session:
        conversation_id = (await session.get_one(Message, message_id)).conversation_id

    turn = asyncio.create_task(run_turn(services, message_id))
    await asyncio.to_thread(gate.wait_for_waiting, 1)
    ticket_view = await ticket_actions.do_take_over(services, agent, conversation_id)
    gate.opened.set()
    result = await turn

    assert result.reply is None
    assert result.decision.suppressed
    assert ticket_view.status == "open"
    assert publisher.said_to_customers() == [], "no piece of the bot's reply reached the customer"
    async with services.database.sessionmaker() as session:
        reply = await session.scalar(select(Message).where(Message.reply_to_id == message_id))
        assert reply is not None and "Financeiro" in reply.text
        assert reply.delivery_status == DeliveryStatus.SUPPRESSED
        record = DecisionRecord.from_json((await session.get_one(Message, message_id)).decision)
        assert record.suppressed and record.action == "respond"
        tickets = list(await session.scalars(select(Ticket).where(Ticket.conversation_id == conversation_id)))
        assert [t.assignee_id for t in tickets] == [user.id]
        transcript = await webchat_transcript(session, tenant.id, session_id)
    assert [m.text for m in transcript] == [QUESTION]
    inbox = [e for stream, e in publisher.events if stream.startswith("inbox:")]
    shown = [
        e["message"] for e in inbox if e.get("type") == "message.created" and e["message"]["author"] == "bot"
    ]
    assert [m["delivery_status"] for m in shown] == ["suppressed"]
