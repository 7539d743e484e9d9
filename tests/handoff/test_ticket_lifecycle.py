"""Transfers with a note, internal notes, handing back to the bot, reopening, and the history of it all."""

from __future__ import annotations

import asyncio
import datetime
import uuid
from typing import Any

import pytest

from channels.models import Author, Conversation, ConversationMode, Direction, Message
from channels.service import conversation_messages, get_or_create_channel, get_or_create_conversation
from conversations.services import Services
from core.accounts import Presence, Tenant, create_user, next_ticket_number
from core.errors import ConflictError, InvalidInputError
from handoff.errors import TicketConflictError
from handoff.history import ticket_history
from handoff.models import Queue, Ticket, TicketStatus
from handoff.queues import queue_loads, save_queue
from handoff.quick_replies import Fill, find_quick_replies, save_quick_reply
from handoff.service import (
    TicketFilters,
    accept_ticket,
    add_note,
    close_ticket,
    default_queue,
    list_tickets,
    open_ticket,
    reply_to_ticket,
    return_to_bot,
    transfer_ticket,
)
from handoff.sla import sla_of
from handoff.tags import save_tag, set_ticket_tags
from tests.conftest import MakeTenant


async def person(
    services: Services, tenant: Tenant, name: str, presence: Presence = Presence.OFFLINE
) -> uuid.UUID:
    async with services.database.sessionmaker.begin() as session:
        user = await create_user(
            session, tenant, f"{name.lower()}-{uuid.uuid4().hex[:6]}@t.test", "pass-1234", "agent", name
        )
        user.presence = presence
        return user.id


async def escalation(services: Services, tenant: Tenant, session_id: str | None = None) -> Ticket:
    async with services.database.sessionmaker.begin() as session:
        channel = await get_or_create_channel(session, tenant.id, "webchat")
        _, conversation = await get_or_create_conversation(
            session, channel, session_id or uuid.uuid4().hex, None
        )
        return await open_ticket(session, conversation, "asked for a person", next_ticket_number)


async def history(services: Services, tenant: Tenant, ticket: Ticket) -> list[tuple[str, dict[str, object]]]:
    async with services.database.sessionmaker() as session:
        return [(e.kind, e.data) for e in await ticket_history(session, tenant.id, [ticket.id])]


async def test_a_transfer_to_another_queue_with_a_note_reaches_that_queues_agent(
    services: Services, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant(with_kb=False)
    ana = await person(services, tenant, "Ana")
    billing_agent = await person(services, tenant, "Bruno", Presence.ONLINE)
    async with services.database.sessionmaker.begin() as session:
        billing = await save_queue(session, tenant.id, {"name": "Financeiro", "members": [billing_agent]})
    ticket = await escalation(services, tenant)
    async with services.database.sessionmaker.begin() as session:
        await accept_ticket(session, tenant.id, ticket.id, ana)
        moved = await transfer_ticket(
            session, tenant.id, ticket.id, ana, queue_id=billing.id, note="2ª via do boleto"
        )

    assert (moved.queue_id, moved.assignee_id, moved.status) == (billing.id, billing_agent, TicketStatus.OPEN)
    kinds = [kind for kind, _ in await history(services, tenant, ticket)]
    assert kinds == ["created", "accepted", "transferred", "assigned"]
    transferred = dict(await history(services, tenant, ticket))["transferred"]
    assert transferred["note"] == "2ª via do boleto" and transferred["before"]["assignee_id"] == str(ana)


async def test_only_the_tickets_agent_or_an_admin_transfers_it_and_only_within_the_tenant(
    services: Services, make_tenant: MakeTenant
) -> None:
    tenant, other = await make_tenant(with_kb=False), await make_tenant(with_kb=False)
    ana, bia = await person(services, tenant, "Ana"), await person(services, tenant, "Bia")
    outsider = await person(services, other, "Olga")
    ticket = await escalation(services, tenant)
    async with services.database.sessionmaker.begin() as session:
        await accept_ticket(session, tenant.id, ticket.id, ana)
    with pytest.raises(TicketConflictError, match="belongs to another agent"):
        async with services.database.sessionmaker.begin() as session:
            await transfer_ticket(session, tenant.id, ticket.id, bia, assignee_id=bia)
    with pytest.raises(InvalidInputError) as raised:
        async with services.database.sessionmaker.begin() as session:
            await transfer_ticket(session, tenant.id, ticket.id, ana, assignee_id=outsider)
    assert raised.value.field == "assignee_id"
    async with services.database.sessionmaker.begin() as session:
        moved = await transfer_ticket(session, tenant.id, ticket.id, bia, is_admin=True, assignee_id=bia)
    assert moved.assignee_id == bia


async def test_an_internal_note_is_in_the_history_and_never_in_the_customers_conversation(
    services: Services, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant(with_kb=False)
    ana = await person(services, tenant, "Ana")
    ticket = await escalation(services, tenant)
    async with services.database.sessionmaker.begin() as session:
        await add_note(session, tenant.id, ticket.id, ana, "cliente VIP, oferecer frete grátis")
    assert ("note", {"text": "cliente VIP, oferecer frete grátis"}) in await history(services, tenant, ticket)
    async with services.database.sessionmaker() as session:
        said = [m.text for m in await conversation_messages(session, tenant.id, ticket.conversation_id)]
    assert not any("VIP" in text for text in said)


async def test_handing_back_to_the_bot_closes_the_ticket_and_a_new_handoff_soon_after_reopens_it(
    services: Services, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant(with_kb=False)
    ana = await person(services, tenant, "Ana")
    session_id = uuid.uuid4().hex
    ticket = await escalation(services, tenant, session_id)
    async with services.database.sessionmaker.begin() as session:
        await accept_ticket(session, tenant.id, ticket.id, ana)
        await return_to_bot(session, tenant.id, ticket.id, ana)
        conversation = await session.get_one(Conversation, ticket.conversation_id)
        assert conversation.mode == ConversationMode.BOT

    again = await escalation(services, tenant, session_id)

    assert (again.id, again.protocol, again.status) == (ticket.id, ticket.protocol, TicketStatus.PENDING)
    kinds = [kind for kind, _ in await history(services, tenant, ticket)]
    assert kinds == ["created", "accepted", "returned_to_bot", "reopened"]


async def test_after_the_reopen_window_a_handoff_opens_a_new_ticket_with_a_new_protocol(
    services: Services, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant(with_kb=False)
    ana = await person(services, tenant, "Ana")
    async with services.database.sessionmaker.begin() as session:
        (await session.get_one(Tenant, tenant.id)).reopen_window_hours = 0
        await default_queue(session, tenant.id)
    session_id = uuid.uuid4().hex
    first = await escalation(services, tenant, session_id)
    async with services.database.sessionmaker.begin() as session:
        await close_ticket(session, tenant.id, first.id, ana)

    second = await escalation(services, tenant, session_id)

    assert second.id != first.id and second.protocol != first.protocol


async def test_quick_replies_check_their_variables_and_fill_them_in_for_a_ticket(
    services: Services, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant(with_kb=False)
    async with services.database.sessionmaker.begin() as session:
        await save_quick_reply(
            session, tenant.id, "/entrega", "Olá {{contact.first_name}}! Seu protocolo é {{ticket.protocol}}."
        )
        await save_quick_reply(session, tenant.id, "troca", "Trocas em até 30 dias, {{ agent.name }} aqui.")
        with pytest.raises(InvalidInputError) as unknown:
            await save_quick_reply(session, tenant.id, "cupom", "Use o cupom {{coupon.code}}")
        assert unknown.value.field == "text" and "{{coupon.code}}" in unknown.value.detail
        with pytest.raises(ConflictError):
            await save_quick_reply(session, tenant.id, "entrega", "outra")
    async with services.database.sessionmaker() as session:
        found = await find_quick_replies(session, tenant.id, "/entr")
        assert [r.shortcut for r in found] == ["entrega"]
        assert [r.shortcut for r in await find_quick_replies(session, tenant.id, "30 dias")] == ["troca"]
    fill = Fill(contact_name="Maria Souza", protocol="20261124-00007", agent_name="Bia", company_name="Loja")
    assert fill.render(found[0].text) == "Olá Maria! Seu protocolo é 20261124-00007."
    with pytest.raises(InvalidInputError, match="unknown variable"):
        fill.render("Oi {{contact.cpf}}")


async def test_tags_and_filters_find_the_tickets_an_agent_is_looking_for(
    services: Services, make_tenant: MakeTenant
) -> None:
    tenant, other = await make_tenant(with_kb=False), await make_tenant(with_kb=False)
    ana = await person(services, tenant, "Ana")
    boleto, troca, plain = [await escalation(services, tenant) for _ in range(3)]
    async with services.database.sessionmaker.begin() as session:
        vip = await save_tag(session, tenant.id, "VIP", "#d4a017")
        foreign = await save_tag(session, other.id, "VIP", "#000000")
        await set_ticket_tags(session, tenant.id, troca.id, [vip.id])
        conversation = await session.get_one(Conversation, boleto.conversation_id)
        session.add(
            Message(
                tenant_id=tenant.id,
                conversation_id=conversation.id,
                channel_id=conversation.channel_id,
                direction=Direction.INBOUND,
                author=Author.CUSTOMER,
                text="Preciso da segunda via do boleto",
                processed=True,
            )
        )
        await accept_ticket(session, tenant.id, plain.id, ana)
        with pytest.raises(InvalidInputError) as raised:
            await set_ticket_tags(session, tenant.id, plain.id, [foreign.id])
        assert raised.value.field == "tag_ids"

    async def ids(**filters: Any) -> set[uuid.UUID]:
        async with services.database.sessionmaker() as session:
            return {t.id for t, _ in await list_tickets(session, tenant.id, TicketFilters(**filters))}

    assert await ids(tag_id=vip.id) == {troca.id}
    assert await ids(text="segunda via") == {boleto.id}
    assert await ids(text=boleto.protocol) == {boleto.id}
    assert await ids(assignee_id=ana) == {plain.id}
    assert await ids(status="pending") == {boleto.id, troca.id}
    assert await ids(channel="webchat") == {boleto.id, troca.id, plain.id}
    assert await ids(channel="telegram") == set()
    assert await ids(tag_id=foreign.id) == set(), "another tenant's tag finds nothing here"


async def test_sla_shows_what_is_due_and_counts_the_tickets_that_missed_it(
    services: Services, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant(with_kb=False)
    ana = await person(services, tenant, "Ana")
    async with services.database.sessionmaker.begin() as session:
        queue = await save_queue(
            session, tenant.id, {"name": "Suporte", "first_response_minutes": 10, "resolution_minutes": 120}
        )
        queue.is_default = True
    answered, waiting = await escalation(services, tenant), await escalation(services, tenant)
    async with services.database.sessionmaker.begin() as session:
        await reply_to_ticket(session, tenant.id, answered.id, ana, "Oi! Já vejo isso.")
    async with services.database.sessionmaker() as session:
        queue = await session.get_one(Queue, queue.id)
        answered = await session.get_one(Ticket, answered.id)
        waiting = await session.get_one(Ticket, waiting.id)
        soon = waiting.created_at + datetime.timedelta(minutes=5)
        later = waiting.created_at + datetime.timedelta(minutes=30)
        assert sla_of(waiting, queue, soon).breached == ()
        assert sla_of(waiting, queue, soon).first_response_due == waiting.created_at + datetime.timedelta(
            minutes=10
        )
        assert sla_of(waiting, queue, later).breached == ("first_response",)
        assert sla_of(answered, queue, later).breached == (), "answered in time"
        assert sla_of(answered, queue, later + datetime.timedelta(hours=2)).breached == ("resolution",)
        [load] = [q for q in await queue_loads(session, tenant.id, later) if q.queue.name == "Suporte"]
    assert (load.pending, load.open, load.breached) == (1, 1, 1)


async def test_two_agents_accepting_at_the_same_instant_one_wins_and_the_other_hears_who(
    services: Services, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant(with_kb=False)
    ana, bruno = await person(services, tenant, "Ana"), await person(services, tenant, "Bruno")
    for _ in range(5):
        ticket = await escalation(services, tenant)

        async def accept(agent: uuid.UUID, ticket_id: uuid.UUID = ticket.id) -> str:
            try:
                async with services.database.sessionmaker.begin() as session:
                    await accept_ticket(session, tenant.id, ticket_id, agent)
            except TicketConflictError as exc:
                return str(exc)
            return "won"

        results = await asyncio.gather(accept(ana), accept(bruno))
        assert results.count("won") == 1, results
        [lost] = [r for r in results if r != "won"]
        async with services.database.sessionmaker() as session:
            owner = (await session.get_one(Ticket, ticket.id)).assignee_id
        assert f"already taken by {'Ana' if owner == ana else 'Bruno'}" in lost
        assert [kind for kind, _ in await history(services, tenant, ticket)] == ["created", "accepted"]


@pytest.mark.parametrize(
    ("text", "filled"),
    [
        ("Olá, {{contact.first_name}}! Aqui é {{agent.name}}.", "Olá! Aqui é Bia."),
        ("Oi {{contact.name}}, tudo bem?", "Oi, tudo bem?"),
        ("Obrigado, {{contact.first_name}}.", "Obrigado."),
        ("Protocolo {{ticket.protocol}}", "Protocolo 20261124-00007"),
    ],
)
def test_a_customer_who_gave_no_name_leaves_no_gap_in_a_quick_reply(text: str, filled: str) -> None:
    fill = Fill(contact_name="", protocol="20261124-00007", agent_name="Bia", company_name="Loja")
    assert fill.render(text) == filled
