"""In Debian's Chromium: a person takes a conversation back from the bot with the inbox's "Assumir".

A customer on the web chat page, an agent in the inbox (in Portuguese), a real ``atende demo`` server,
in a tenant of its own. Once the agent takes over, the bot says nothing more to the customer, and a
reply the bot was writing at that moment is shown to the team as never sent.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from playwright.async_api import Browser, expect
from sqlalchemy import select

from agents.record import DecisionRecord
from channels.models import Conversation, DeliveryStatus, Message
from channels.service import add_bot_message
from core.database import open_database
from core.settings import Settings
from tests.conftest import LiveServer
from tests.e2e.test_handoff_browser import (
    LIVE,
    Person,
    _api_get,
    _bot,
    _chat,
    _company,
    _customer_sees,
    _inbox,
    _listed,
    _open_ticket,
    _say,
)

QUESTION = "Vocês parcelam no cartão?"


async def _decided(server: LiveServer, person: Person, ticket_id: str, text: str) -> dict[str, Any]:
    """The customer's message ``text`` once its turn has run (its decision is stored), as the API shows it."""
    deadline = time.monotonic() + LIVE / 1000
    while True:
        detail = await _api_get(server, person, f"/api/v1/tickets/{ticket_id}")
        mine = [m for m in detail["messages"] if m["author"] == "customer" and m["text"] == text]
        if mine and mine[-1]["decision"]:
            return dict(mine[-1])
        assert time.monotonic() < deadline, f"the turn of {text!r} never ran"
        await asyncio.sleep(0.2)


async def _bot_was_writing(server: LiveServer, conversation_id: str, answering: str) -> None:
    """What the turn stores when a person took the conversation while the bot was still writing its
    reply (``conversations.turn._suppress``; the race itself is tested in test_waiting_turns)."""
    async with (
        open_database(Settings(data_dir=server.data_dir)) as database,
        database.sessionmaker.begin() as session,
    ):
        conversation = await session.get_one(Conversation, uuid.UUID(conversation_id))
        question = await session.scalar(
            select(Message).where(
                Message.conversation_id == conversation.id, Message.id == uuid.UUID(answering)
            )
        )
        record = DecisionRecord(
            action="respond",
            rule="grounded_answer",
            reason="the passages answer it",
            suppressed="a human took the conversation first",
        )
        reply = add_bot_message(
            session, conversation, "Aceitamos boleto, sim.", reply_to=question, decision=record.as_json()
        )
        reply.delivery_status = DeliveryStatus.SUPPRESSED


async def test_an_agent_takes_the_conversation_from_the_bot_which_then_stays_silent(
    browser: Browser, live_server: LiveServer
) -> None:
    company = await _company(live_server, {"agent": ("Tânia Atendente", "agent")}, with_kb=True)
    person = company.people["agent"]
    agent = await _inbox(browser, live_server, person, locale="pt-BR")
    customer, chat = await _chat(browser, live_server, company.slug)

    # A ticket from an earlier hand-off, handed back: the bot answers the conversation again.
    await _say(customer, "quero falar com um atendente")
    await expect(_bot(customer)).to_have_count(1, timeout=LIVE)
    ticket_id = await _open_ticket(agent, chat.name)
    await expect(agent.locator("#take-over")).to_be_hidden()  # people have it already
    await agent.locator("#contact-add-field").click()  # the inbox's pieces (inbox_parts.js) load too
    await expect(agent.locator("#contact-fields .field-row")).to_have_count(1)
    await agent.locator("#accept").click()
    await agent.locator("#return-to-bot").click()
    take_over = agent.locator("#take-over")
    await expect(take_over).to_be_visible()
    await expect(take_over).to_have_text("Assumir")
    await expect(agent.locator("#reply")).to_be_hidden()

    await _say(customer, QUESTION)
    await expect(_bot(customer)).to_have_count(2, timeout=LIVE)
    await expect(_bot(customer).last).to_contain_text("10 vezes sem juros")
    await expect(agent.locator('#messages [data-author="bot"]').last).to_contain_text("10 vezes sem juros")

    # "Assumir": the conversation is the agent's, in their open tickets, and the bot steps back.
    await take_over.click()
    await expect(take_over).to_be_hidden()
    await expect(agent.locator("#reply")).to_be_visible()
    await expect(agent.locator('.tabs [data-status="open"]')).not_to_have_class("secondary")
    await expect(_listed(agent, ticket_id)).to_be_visible()
    ticket = (await _api_get(live_server, person, f"/api/v1/tickets/{ticket_id}"))["ticket"]
    assert (ticket["status"], ticket["assignee_id"]) == ("open", person.id)

    follow_up = "E boleto, vocês aceitam?"
    await _say(customer, follow_up)
    await expect(agent.locator('#messages [data-author="customer"]').last).to_have_text(
        follow_up, timeout=LIVE
    )
    asked = await _decided(live_server, person, ticket_id, follow_up)
    assert asked["decision"]["rule"] == "human_mode"
    await expect(_bot(customer)).to_have_count(2)

    # Had the bot been writing an answer to it, the team would see that answer, marked never sent.
    await _bot_was_writing(live_server, ticket["conversation_id"], asked["id"])
    await _listed(agent, ticket_id).click()
    kept_back = agent.locator('#messages [data-author="bot"]').last
    await expect(kept_back).to_contain_text("Aceitamos boleto, sim.")
    await expect(kept_back.locator('[data-delivery="suppressed"]')).to_have_text(
        "não enviada: uma pessoa assumiu a conversa antes"
    )
    await expect(kept_back.locator(".decision[data-suppressed]")).to_contain_text(
        "suppressed: uma pessoa assumiu a conversa antes"
    )
    assert "Aceitamos boleto, sim." not in await _customer_sees(chat)
