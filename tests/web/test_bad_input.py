"""Input PostgreSQL cannot take is refused with a 422 naming the field, never a 500 (issue 15, hygiene).

A NUL character in any JSON field, query or path parameter a person sends; a page beyond any list; an
OPTIONS call. Providers are not refused: a NUL inside a Telegram or WhatsApp message is dropped and the
customer's message is kept (a refused webhook is retried, and the message would be lost).
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from channels.models import Contact, Message
from channels.registry import add_channel
from conversations.services import Services
from core.accounts import Tenant, create_user
from handoff.service import accept_ticket
from integrations.api_keys import create_api_key
from tests.conftest import MakeTenant
from tests.fakes.graph_api import inbound, sign, text_message
from tests.handoff.test_ticket_lifecycle import escalation
from tests.helpers import NoJobs, app_client, login_async

NUL = "\u0000"


@dataclasses.dataclass
class Staff:
    client: httpx.AsyncClient
    tenant: Tenant
    headers: dict[str, str]
    user_id: uuid.UUID
    services: Services


@pytest.fixture
async def staff(services: Services, make_tenant: MakeTenant) -> AsyncIterator[Staff]:
    """The whole app, and a logged-in admin of a fresh tenant; no turn answers the customers."""
    quiet = dataclasses.replace(services, jobs=NoJobs())
    tenant = await make_tenant(with_kb=False)
    email = f"admin@{tenant.slug}.test"
    async with quiet.database.sessionmaker.begin() as session:
        user = await create_user(session, tenant, email, "admin-pass-1", "admin")
    async with app_client(quiet) as client:
        yield Staff(client, tenant, await login_async(client, email, "admin-pass-1"), user.id, quiet)


def refused_naming(response: httpx.Response, field: str) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["errors"] == [{"field": field, "reason": "must not contain the NUL character (\\u0000)"}]
    assert body["detail"].startswith(f"{field}: ")


async def test_a_nul_in_what_a_person_sends_is_a_422_naming_the_field(staff: Staff) -> None:
    client, headers, tenant = staff.client, staff.headers, staff.tenant
    ticket = await escalation(staff.services, tenant)
    async with staff.services.database.sessionmaker.begin() as session:
        await accept_ticket(session, tenant.id, ticket.id, staff.user_id)
        _, api_key = await create_api_key(session, tenant.id, "crm", staff.user_id)

    login = await client.post("/api/v1/auth/login", json={"email": f"a{NUL}@x.test", "password": "p"})
    refused_naming(login, "email")
    note = await client.post(f"/api/v1/tickets/{ticket.id}/notes", json={"text": f"a{NUL}b"}, headers=headers)
    refused_naming(note, "text")
    tag = await client.post("/api/v1/tags", json={"name": f"vip{NUL}", "color": "#ff0000"}, headers=headers)
    refused_naming(tag, "name")
    search = await client.get("/api/v1/tickets", params={"q": f"pedido{NUL}"}, headers=headers)
    refused_naming(search, "q")
    chat = f"/api/v1/webchat/{tenant.slug}"
    refused_naming(
        await client.post(f"{chat}/messages", json={"session_id": "s1", "text": f"oi{NUL}"}), "text"
    )
    refused_naming(await client.get(f"{chat}/sessions/s%00/messages"), "session_id")
    public = {"Authorization": f"Bearer {api_key}"}
    contacts = await client.get("/api/v1/public/contacts", params={"external_id": NUL}, headers=public)
    refused_naming(contacts, "external_id")
    nested = await client.put(
        f"/api/v1/tickets/{ticket.id}/tags", json={"tag_ids": [], f"x{NUL}": 1}, headers=headers
    )
    assert nested.status_code == 422 and nested.json()["errors"][0]["field"] == f"x{NUL}"

    async with staff.services.database.sessionmaker() as session:  # nothing half-written
        assert await session.scalar(select(Message.id).where(Message.tenant_id == tenant.id)) is None
    listed = await client.get("/api/v1/tickets", params={"q": "pedido"}, headers=headers)
    assert listed.status_code == 200 and listed.json() == []
    assert (await client.get("/api/v1/tags", headers=headers)).json() == []


async def test_a_page_beyond_any_list_and_an_options_call_are_answered_not_500(staff: Staff) -> None:
    client, tenant = staff.client, staff.tenant
    async with staff.services.database.sessionmaker.begin() as session:
        _, api_key = await create_api_key(session, tenant.id, "crm", staff.user_id)
    public = {"Authorization": f"Bearer {api_key}"}

    huge = await client.get("/api/v1/public/contacts", params={"offset": 10**19}, headers=public)
    assert huge.status_code == 422, huge.text
    assert [e["field"] for e in huge.json()["errors"]] == ["offset"]
    too_many = await client.get("/api/v1/public/contacts", params={"limit": 10**6}, headers=public)
    assert too_many.status_code == 422 and [e["field"] for e in too_many.json()["errors"]] == ["limit"]
    last = await client.get("/api/v1/public/contacts", params={"offset": 1_000_000}, headers=public)
    assert last.status_code == 200 and last.json()["items"] == []

    options = await client.options("/api/v1/tickets", headers=staff.headers)
    assert options.status_code == 204, options.text
    assert {"GET", "OPTIONS"} <= {m.strip() for m in options.headers["allow"].split(",")}
    assert (await client.options("/api/v1/tickets")).status_code == 401


async def _messages_of(services: Services, tenant: Tenant) -> list[tuple[str, str | None]]:
    async with services.database.sessionmaker() as session:
        rows = await session.execute(
            select(Message.text, Contact.name)
            .join(Contact, Contact.tenant_id == Message.tenant_id)
            .where(Message.tenant_id == tenant.id)
        )
        return [(text, name) for text, name in rows.tuples()]


async def _channel(staff: Staff, raw: dict[str, Any]) -> uuid.UUID:
    secret_key = staff.services.settings.resolved_secret_key()
    async with staff.services.database.sessionmaker.begin() as session:
        return (await add_channel(session, staff.tenant.id, raw, secret_key)).id


async def test_a_nul_inside_a_telegram_message_is_dropped_and_the_message_kept(staff: Staff) -> None:
    token = "555000444:AAE-nul-test-token"
    channel_id = await _channel(staff, {"type": "telegram", "token": token, "webhook_secret": "s3cret"})
    update = {
        "update_id": 1,
        "message": {
            "message_id": 7,
            "date": 1750000000,
            "chat": {"id": 4242, "type": "private", "first_name": f"Ana{NUL}"},
            "from": {"id": 4242, "is_bot": False, "first_name": f"Ana{NUL}"},
            "text": f"Quero {NUL}cancelar",
        },
    }
    posted = await staff.client.post(
        f"/webhooks/telegram/{channel_id}",
        content=json.dumps(update).encode(),
        headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": "s3cret"},
    )
    assert posted.status_code == 200, posted.text
    assert await _messages_of(staff.services, staff.tenant) == [("Quero cancelar", "Ana")]


async def test_a_nul_inside_a_whatsapp_message_is_dropped_and_the_message_kept(staff: Staff) -> None:
    raw = {
        "type": "whatsapp-cloud",
        "name": "numero",
        "token": "EAAG-nul-token",
        "app_secret": "app-secret",
        "verify_token": "verify",
        "phone_number_id": "106540352242922",
    }
    channel_id = await _channel(staff, raw)
    body = json.dumps(inbound(text_message(f"Meu pedido{NUL} atrasou"), name=f"Maria{NUL}")).encode()
    posted = await staff.client.post(
        f"/webhooks/whatsapp-cloud/{channel_id}",
        content=body,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, "app-secret")},
    )
    assert posted.status_code == 200, posted.text
    assert await _messages_of(staff.services, staff.tenant) == [("Meu pedido atrasou", "Maria")]
