"""Escalations handed to the online members of a queue, in turn or the least busy, within their limit."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import select

from channels.service import get_or_create_channel, get_or_create_conversation
from conversations.services import Services
from core.accounts import Presence, Tenant, User, create_user, next_ticket_number
from core.errors import InvalidInputError
from handoff.models import Ticket, TicketStatus
from handoff.queues import save_queue
from handoff.service import close_ticket, open_ticket
from tests.conftest import MakeTenant

ALWAYS_CLOSED = {"timezone": "America/Sao_Paulo", "weekly": {}}


async def agents(services: Services, tenant: Tenant, *presences: Presence) -> list[uuid.UUID]:
    async with services.database.sessionmaker.begin() as session:
        made = []
        for index, presence in enumerate(presences):
            user = await create_user(
                session, tenant, f"a{index}-{uuid.uuid4().hex[:8]}@t.test", "pass-1234", "agent"
            )
            user.presence = presence
            made.append(user.id)
        return made


async def queue(services: Services, tenant: Tenant, members: list[uuid.UUID], **settings: Any) -> uuid.UUID:
    async with services.database.sessionmaker.begin() as session:
        made = await save_queue(
            session, tenant.id, {"name": f"q-{uuid.uuid4().hex[:6]}", "members": members, **settings}
        )
        # New escalations go to the tenant's default queue: make this one it.
        made.is_default = True
        return made.id


async def escalate(services: Services, tenant: Tenant, count: int) -> list[Ticket]:
    tickets = []
    for _ in range(count):
        async with services.database.sessionmaker.begin() as session:
            channel = await get_or_create_channel(session, tenant.id, "webchat")
            _, conversation = await get_or_create_conversation(session, channel, uuid.uuid4().hex, None)
            tickets.append(await open_ticket(session, conversation, "asked for a person", next_ticket_number))
    return tickets


async def open_load(services: Services, tenant: Tenant) -> Counter[uuid.UUID | None]:
    async with services.database.sessionmaker() as session:
        rows = await session.scalars(
            select(Ticket).where(Ticket.tenant_id == tenant.id, Ticket.status != TicketStatus.CLOSED)
        )
        return Counter(t.assignee_id for t in rows)


async def test_round_robin_spreads_100_escalations_over_the_online_agents_and_skips_the_offline_one(
    services: Services, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant(with_kb=False)
    ana, bia, caio, away = await agents(
        services, tenant, Presence.ONLINE, Presence.ONLINE, Presence.ONLINE, Presence.OFFLINE
    )
    await queue(services, tenant, [ana, bia, caio, away], routing="round_robin", max_open_per_agent=40)

    tickets = await escalate(services, tenant, 100)

    load = await open_load(services, tenant)
    assert sorted(load[agent] for agent in (ana, bia, caio)) == [33, 33, 34]
    assert load[away] == 0 and load[None] == 0
    assert [t.assignee_id for t in tickets[:6]] == [ana, bia, caio, ana, bia, caio], "in turn"
    assert all(t.status == TicketStatus.OPEN for t in tickets)


async def test_each_agents_limit_holds_and_what_does_not_fit_waits_as_pending(
    services: Services, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant(with_kb=False)
    members = await agents(services, tenant, Presence.ONLINE, Presence.ONLINE, Presence.ONLINE)
    await queue(services, tenant, members, routing="least_busy", max_open_per_agent=30)

    await escalate(services, tenant, 100)

    load = await open_load(services, tenant)
    assert [load[m] for m in members] == [30, 30, 30]
    assert load[None] == 10, "ten tickets wait for a free place"


async def test_least_busy_evens_out_an_agent_who_already_has_tickets(
    services: Services, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant(with_kb=False)
    busy, fresh, other = await agents(services, tenant, Presence.ONLINE, Presence.OFFLINE, Presence.OFFLINE)
    await queue(services, tenant, [busy, fresh, other], routing="least_busy", max_open_per_agent=30)
    await escalate(services, tenant, 10)  # all ten go to the only one online
    async with services.database.sessionmaker.begin() as session:
        for user in await session.scalars(select(User).where(User.id.in_([fresh, other]))):
            user.presence = Presence.ONLINE

    new = await escalate(services, tenant, 60)

    load = await open_load(services, tenant)
    assert load[busy] == 10 + sum(t.assignee_id == busy for t in new)
    assert max(load[m] for m in (busy, fresh, other)) - min(load[m] for m in (busy, fresh, other)) <= 1
    assert all(t.assignee_id != busy for t in new[:20]), "the others catch up first"


async def test_outside_business_hours_every_ticket_waits_as_pending(
    services: Services, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant(with_kb=False)
    members = await agents(services, tenant, Presence.ONLINE, Presence.ONLINE)
    await queue(services, tenant, members, business_hours=ALWAYS_CLOSED)

    tickets = await escalate(services, tenant, 5)

    assert all(t.status == TicketStatus.PENDING and t.assignee_id is None for t in tickets)


async def test_closing_a_ticket_hands_the_agent_the_oldest_waiting_one(
    services: Services, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant(with_kb=False)
    [only] = await agents(services, tenant, Presence.ONLINE)
    await queue(services, tenant, [only], max_open_per_agent=1)
    first, second, third = await escalate(services, tenant, 3)
    assert (first.assignee_id, second.assignee_id, third.assignee_id) == (only, None, None)

    async with services.database.sessionmaker.begin() as session:
        await close_ticket(session, tenant.id, first.id, only)
    async with services.database.sessionmaker() as session:
        assert (await session.get_one(Ticket, second.id)).assignee_id == only
        assert (await session.get_one(Ticket, third.id)).assignee_id is None


async def test_escalations_at_the_same_instant_never_push_an_agent_past_the_limit(
    services: Services, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant(with_kb=False)
    members = await agents(services, tenant, Presence.ONLINE, Presence.ONLINE, Presence.ONLINE)
    await queue(services, tenant, members, routing="least_busy", max_open_per_agent=4)

    await asyncio.gather(*(escalate(services, tenant, 1) for _ in range(20)))

    load = await open_load(services, tenant)
    assert [load[m] for m in members] == [4, 4, 4]
    assert load[None] == 8


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"routing": "random"}, "routing"),
        ({"max_open_per_agent": 0}, "max_open_per_agent"),
        ({"color": "blue"}, "color"),
        ({"business_hours": {"timezone": "Mars/Base", "weekly": {}}}, "business_hours.timezone"),
        (
            {"business_hours": {"weekly": {"sat": [{"opens": "9h", "closes": "13:00"}]}}},
            "business_hours.weekly.sat[0].opens",
        ),
        ({"members": [str(uuid.uuid4())]}, "members"),
    ],
)
async def test_bad_queue_settings_name_the_field(
    services: Services, make_tenant: MakeTenant, changes: dict[str, Any], field: str
) -> None:
    tenant = await make_tenant(with_kb=False)
    with pytest.raises(InvalidInputError) as raised:
        async with services.database.sessionmaker.begin() as session:
            await save_queue(session, tenant.id, {"name": "Vendas", **changes})
    assert raised.value.field == field
