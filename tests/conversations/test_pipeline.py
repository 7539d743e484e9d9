"""The inbound pipeline: exactly-once storage, one turn per message, human mode, failures escalate."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from agents.record import ClassificationView, DecisionRecord
from channels.base import InboundMessage
from channels.errors import InvalidMessageError
from channels.models import Author, Message
from conversations.receive import accept_on_default_channel
from conversations.services import Services
from conversations.turn import run_turn
from conversations.unanswered import unanswered_messages
from handoff.models import Ticket, TicketStatus
from tests.conftest import MakeTenant


async def _count(services: Services, tenant_id: uuid.UUID, author: str) -> int:
    async with services.database.sessionmaker() as session:
        return (
            await session.scalar(
                select(func.count())
                .select_from(Message)
                .where(Message.tenant_id == tenant_id, Message.author == author)
            )
            or 0
        )


async def test_the_same_channel_message_twice_is_stored_and_answered_once(
    services: Services, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    inbound = InboundMessage("session-1", "Como tiro a segunda via do boleto?", channel_message_id="wamid-1")
    first_id, first_new = await accept_on_default_channel(services, tenant, "webchat", inbound)
    second_id, second_new = await accept_on_default_channel(services, tenant, "webchat", inbound)
    assert (first_new, second_new) == (True, False)
    assert first_id == second_id

    result = await run_turn(services, first_id)
    again = await run_turn(services, first_id)  # a retried job
    assert result.reply and again.reply == result.reply
    assert await _count(services, tenant.id, Author.CUSTOMER) == 1
    assert await _count(services, tenant.id, Author.BOT) == 1


@pytest.mark.parametrize(("text", "field"), [("", "text"), ("   \n", "text"), ("x" * 4097, "text")])
def test_bad_messages_are_refused_naming_the_field(text: str, field: str) -> None:
    with pytest.raises(InvalidMessageError) as error:
        InboundMessage("session", text, channel_message_id="m1")
    assert error.value.field == field


async def test_in_human_mode_the_bot_stays_silent_and_the_ticket_stays_open(
    services: Services, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    ask, _ = await accept_on_default_channel(
        services, tenant, "webchat", InboundMessage("s", "quero falar com um atendente", "m1")
    )
    escalation = await run_turn(services, ask)
    assert escalation.escalated and escalation.ticket_id
    assert "Vou transferir você para um atendente humano" in (escalation.reply or "")

    follow_up, _ = await accept_on_default_channel(
        services, tenant, "webchat", InboundMessage("s", "Como tiro a segunda via do boleto?", "m2")
    )
    silent = await run_turn(services, follow_up)
    assert silent.reply is None
    assert silent.ticket_id == escalation.ticket_id
    assert await _count(services, tenant.id, Author.BOT) == 1
    async with services.database.sessionmaker() as session:
        tickets = list(await session.scalars(select(Ticket).where(Ticket.tenant_id == tenant.id)))
    assert [(t.status, t.protocol.count("-")) for t in tickets] == [(TicketStatus.PENDING, 1)]


class _BrokenGraph:
    """The real graph whose every run fails, as in an outage of something it depends on."""

    calls = 0

    def __init__(self, graph: Any) -> None:
        self._graph = graph

    async def aget_state(self, *args: Any, **kwargs: Any) -> Any:
        return await self._graph.aget_state(*args, **kwargs)

    async def astream(self, *args: Any, **kwargs: Any) -> Any:
        type(self).calls += 1
        raise TimeoutError("model did not answer")
        yield  # an async generator, like the real one


async def test_an_agent_failure_is_retried_then_handed_to_a_human(
    services: Services, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    broken = dataclasses.replace(services, graph=_BrokenGraph(services.graph))  # type: ignore[arg-type]
    message_id, _ = await accept_on_default_channel(
        services, tenant, "webchat", InboundMessage("s", "Como tiro a segunda via?", "m1")
    )
    result = await run_turn(broken, message_id)
    assert _BrokenGraph.calls == 3
    assert result.escalated and result.ticket_id
    async with services.database.sessionmaker() as session:
        message = await session.get_one(Message, message_id)
    assert message.decision and message.decision["rule"] == "agent_error"


async def test_messages_left_unanswered_by_a_stopped_process_are_found_and_answered(
    services: Services, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    message_id, _ = await accept_on_default_channel(
        services, tenant, "webchat", InboundMessage("s", "Como tiro a segunda via do boleto?", "m1")
    )
    # The process stopped before the turn ran: the app's start-up sweep finds the message.
    assert message_id in await unanswered_messages(services)
    result = await run_turn(services, message_id)
    assert result.reply
    assert message_id not in await unanswered_messages(services)


async def test_a_turn_reads_past_an_earlier_one_that_had_no_classifier(
    services: Services, make_tenant: MakeTenant
) -> None:
    """A file the bot refused left a record with only the language: the next turn still runs the graph."""
    tenant = await make_tenant()
    refused, _ = await accept_on_default_channel(
        services, tenant, "webchat", InboundMessage("s", "segue o comprovante", "m1")
    )
    async with services.database.sessionmaker.begin() as session:
        message = await session.get_one(Message, refused)
        message.processed = True
        message.decision = DecisionRecord(
            classification=ClassificationView(language="pt"),
            action="respond",
            rule="media_refused",
            reason="a file was refused: larger than 10 MB",
            passages=[],
        ).as_json()
    question, _ = await accept_on_default_channel(
        services, tenant, "webchat", InboundMessage("s", "Como tiro a segunda via do boleto?", "m2")
    )
    result = await run_turn(services, question)
    assert result.decision.rule == "grounded_answer"
