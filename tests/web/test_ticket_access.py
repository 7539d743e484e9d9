"""A customer's files follow the ticket-visibility rule, and a ticket is only given to someone with an
inbox (issue 15, hygiene)."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select

from channels.base import Attachment, InboundMessage, MessageContent
from conversations.receive import receive_on_default_channel
from conversations.services import Services
from core.accounts import Tenant, create_user
from handoff.models import Ticket
from handoff.queues import save_queue
from handoff.service import transfer_ticket
from tests.conftest import MakeTenant
from tests.handoff.test_ticket_lifecycle import escalation
from tests.helpers import NoJobs, app_client, login_async

PNG = b"\x89PNG\r\n\x1a\n a customer's photo of their invoice"


@dataclasses.dataclass
class Team:
    services: Services
    tenant: Tenant
    client: httpx.AsyncClient
    users: dict[str, uuid.UUID]
    sessions: dict[str, dict[str, str]]


@pytest.fixture
async def team(services: Services, make_tenant: MakeTenant) -> AsyncIterator[Team]:
    """A tenant's admin, supervisor, two agents and a knowledge manager, each logged in to the app."""
    quiet = dataclasses.replace(services, jobs=NoJobs())
    tenant = await make_tenant(with_kb=False)
    roles = {
        "admin": "admin",
        "sara": "supervisor",
        "ana": "agent",
        "beto": "agent",
        "kim": "knowledge_manager",
    }
    users = {}
    async with quiet.database.sessionmaker.begin() as session:
        for name, role in roles.items():
            user = await create_user(session, tenant, f"{name}@{tenant.slug}.test", "pass-pass-1", role, name)
            users[name] = user.id
    async with app_client(quiet) as client:
        sessions = {
            name: await login_async(client, f"{name}@{tenant.slug}.test", "pass-pass-1") for name in roles
        }
        yield Team(quiet, tenant, client, users, sessions)


async def test_an_agent_gets_a_customers_file_only_from_a_ticket_they_may_see(team: Team) -> None:
    services, tenant = team.services, team.tenant
    async with services.database.sessionmaker.begin() as session:
        sales = await save_queue(session, tenant.id, {"name": "Vendas", "members": [team.users["ana"]]})
        billing = await save_queue(
            session, tenant.id, {"name": "Financeiro", "members": [team.users["beto"]]}
        )
    path = f"{tenant.id}/{uuid.uuid4().hex}.png"
    await services.media.write(path, PNG, "image/png")
    photo = Attachment(kind="image", file_id="f-1", mime_type="image/png", path=path)
    inbound = InboundMessage(
        "dora", "segue a fatura", uuid.uuid4().hex, content=MessageContent(attachments=(photo,))
    )
    received = await receive_on_default_channel(services, tenant, "webchat", inbound)
    url = f"/api/v1/media/{received.message_id}/0"

    async def fetched_by(name: str) -> int:
        return (await team.client.get(url, headers=team.sessions[name])).status_code

    assert await fetched_by("ana") == 404, "no ticket yet: the bot's conversation"
    assert await fetched_by("sara") == 200
    ticket = await escalation(services, tenant, "dora")
    async with services.database.sessionmaker.begin() as session:
        await transfer_ticket(
            session, tenant.id, ticket.id, team.users["admin"], is_admin=True, queue_id=billing.id
        )
    assert await fetched_by("ana") == 404, "another queue's ticket"
    assert await fetched_by("beto") == 200
    assert await fetched_by("admin") == 200
    served = await team.client.get(url, headers=team.sessions["beto"])
    assert served.content == PNG

    async with services.database.sessionmaker.begin() as session:
        await transfer_ticket(
            session, tenant.id, ticket.id, team.users["admin"], is_admin=True, queue_id=sales.id
        )
    assert await fetched_by("ana") == 200
    assert await fetched_by("beto") == 404


async def test_a_ticket_cannot_be_transferred_to_a_knowledge_manager(team: Team) -> None:
    ticket = await escalation(team.services, team.tenant)
    refused = await team.client.post(
        f"/api/v1/tickets/{ticket.id}/transfer",
        json={"assignee_id": str(team.users["kim"])},
        headers=team.sessions["admin"],
    )
    assert refused.status_code == 422, refused.text
    [error] = refused.json()["errors"]
    assert error["field"] == "assignee_id" and "agents, supervisors or admins" in error["reason"]
    async with team.services.database.sessionmaker() as session:
        unchanged = await session.scalar(select(Ticket).where(Ticket.id == ticket.id))
    assert unchanged is not None and unchanged.assignee_id is None

    for name in ("ana", "sara", "admin"):
        given = await team.client.post(
            f"/api/v1/tickets/{ticket.id}/transfer",
            json={"assignee_id": str(team.users[name])},
            headers=team.sessions["admin"],
        )
        assert given.status_code == 200, given.text
        assert given.json()["assignee_id"] == str(team.users[name])
