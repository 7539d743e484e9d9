"""Who sees which ticket: one rule, the same whether the ticket list asks in SQL or the inbox socket
asks of one ticket."""

from __future__ import annotations

import uuid

from conversations.services import Services
from core.accounts import Role
from handoff.models import Ticket
from handoff.queues import save_queue
from handoff.service import TicketFilters, list_tickets, transfer_ticket
from handoff.visibility import visibility
from tests.conftest import MakeTenant
from tests.handoff.test_ticket_lifecycle import escalation, person


async def test_an_agent_sees_their_queues_unstaffed_queues_and_their_own_tickets_the_same_way_twice(
    services: Services, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant(with_kb=False)
    ana = await person(services, tenant, "Ana")
    beto = await person(services, tenant, "Beto")
    async with services.database.sessionmaker.begin() as session:
        sales = await save_queue(session, tenant.id, {"name": "Vendas", "members": [ana]})
        billing = await save_queue(session, tenant.id, {"name": "Financeiro", "members": [beto]})
        nobody = await save_queue(session, tenant.id, {"name": "Ninguém", "members": []})
    tickets: dict[str, Ticket] = {}
    for name, queue_id, assignee in [
        ("sales", sales.id, None),
        ("billing", billing.id, None),
        ("billing, given to Ana", billing.id, ana),
        ("nobody's", nobody.id, None),
    ]:
        ticket = await escalation(services, tenant)
        async with services.database.sessionmaker.begin() as session:
            tickets[name] = await transfer_ticket(
                session, tenant.id, ticket.id, beto, is_admin=True, queue_id=queue_id, assignee_id=assignee
            )
    seen_by: dict[tuple[uuid.UUID, Role], set[str]] = {}
    for user_id, role in [(ana, Role.AGENT), (beto, Role.AGENT), (ana, Role.SUPERVISOR)]:
        async with services.database.sessionmaker() as session:
            view = await visibility(session, tenant.id, user_id, role)
            listed = {t.id for t, _ in await list_tickets(session, tenant.id, TicketFilters(visible=view))}
        one_by_one = {name for name, t in tickets.items() if view.sees(t.queue_id, t.assignee_id)}
        assert listed == {tickets[name].id for name in one_by_one}
        seen_by[(user_id, role)] = one_by_one

    assert seen_by[(ana, Role.AGENT)] == {"sales", "billing, given to Ana", "nobody's"}
    assert seen_by[(beto, Role.AGENT)] == {"billing", "billing, given to Ana", "nobody's"}
    assert seen_by[(ana, Role.SUPERVISOR)] == set(tickets)
