"""What the agent notices in the inbox beyond the messages: unread counts, who is typing, the contact
panel with the customer's other channels and past tickets, a summary on demand, and the page's language."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
import pytest
import websockets

from tests.conftest import LiveServer
from tests.helpers import ChatCustomer, login, ticket_of


@pytest.fixture(scope="module")
def client(live_server: LiveServer) -> httpx.Client:
    return httpx.Client(base_url=live_server.url, timeout=60)


def escalated(
    client: httpx.Client, live_server: LiveServer
) -> tuple[ChatCustomer, dict[str, str], dict[str, Any]]:
    session = ChatCustomer.start(client)
    session.send("quero falar com um atendente")
    session.wait_for(2)
    agent = login(client, live_server.agent)
    return session, agent, ticket_of(client, agent, session.name)


def unread(client: httpx.Client, agent: dict[str, str], ticket_id: str) -> int:
    [ticket] = [t for t in client.get("/api/v1/tickets", headers=agent).json() if t["id"] == ticket_id]
    return int(ticket["unread"])


def test_unread_counts_what_the_customer_wrote_since_someone_read_the_ticket(
    client: httpx.Client, live_server: LiveServer
) -> None:
    session, agent, ticket = escalated(client, live_server)
    assert ticket["unread"] == 1, "the message that asked for a person"
    session.send("meu pedido 123 não chegou")
    session.wait_for(3)
    assert unread(client, agent, ticket["id"]) == 2

    assert client.post(f"/api/v1/tickets/{ticket['id']}/seen", headers=agent).status_code == 204
    assert unread(client, agent, ticket["id"]) == 0
    session.send("alguém aí?")
    session.wait_for(4)
    assert unread(client, agent, ticket["id"]) == 1
    client.post(f"/api/v1/tickets/{ticket['id']}/messages", json={"text": "Oi! Já vejo."}, headers=agent)
    assert unread(client, agent, ticket["id"]) == 0, "answering is reading"
    client.post(f"/api/v1/tickets/{ticket['id']}/close", headers=agent)
    session.send("obrigada!")
    session.wait_for(8)
    assert unread(client, agent, ticket["id"]) == 0, "a closed ticket stops counting"
    assert client.post(f"/api/v1/tickets/{uuid.uuid4()}/seen", headers=agent).status_code == 404


async def _next_event(socket: Any, kind: str) -> dict[str, Any]:
    while True:
        event = json.loads(await asyncio.wait_for(socket.recv(), timeout=15))
        if event.get("type") == kind:
            return event


def test_typing_shows_both_ways(client: httpx.Client, live_server: LiveServer) -> None:
    session, agent, ticket = escalated(client, live_server)
    token = agent["Authorization"].removeprefix("Bearer ")
    base = live_server.url.replace("http://", "ws://")

    async def scenario() -> tuple[dict[str, Any], dict[str, Any]]:
        async with (
            websockets.connect(f"{base}/api/v1/inbox/events?token={token}") as inbox,
            websockets.connect(session.events_url) as chat,
        ):
            # Both subscribed: the server subscribes before it accepts a socket.
            await chat.send(json.dumps({"type": "typing"}))
            customer_typing = await _next_event(inbox, "typing")
            await inbox.send(json.dumps({"type": "typing", "ticket_id": ticket["id"]}))
            agent_typing = await _next_event(chat, "typing")
            await inbox.send("not json")  # ignored: the socket stays up
            await chat.send(json.dumps({"type": "typing"}))
            return customer_typing, agent_typing

    customer_typing, agent_typing = asyncio.run(scenario())
    assert customer_typing == {
        "type": "typing",
        "who": "customer",
        "conversation_id": ticket["conversation_id"],
    }
    assert agent_typing == {"type": "typing", "who": "agent"}


def test_the_contact_panel_shows_the_profile_and_tickets_from_every_channel(
    client: httpx.Client, live_server: LiveServer
) -> None:
    session, agent, ticket = escalated(client, live_server)
    panel_url = f"/api/v1/tickets/{ticket['id']}/contact"
    panel = client.get(panel_url, headers=agent).json()
    assert panel["name"] == session.name and panel["custom_fields"] == {}
    assert [(c["channel_type"], c["external_id"]) for c in panel["channels"]] == [
        ("webchat", session.session_id)
    ]
    assert [t["protocol"] for t in panel["tickets"]] == [ticket["protocol"]]

    bad = client.put(panel_url, json={"name": "Ana", "email": "ana@", "phone": "5511"}, headers=agent)
    assert bad.status_code == 422 and "email" in bad.text
    assert client.get(panel_url, headers=agent).json()["name"] == session.name, "nothing saved"
    bad_phone = client.put(panel_url, json={"phone": "12-34"}, headers=agent)
    assert bad_phone.status_code == 422 and "phone" in bad_phone.text

    # The same person wrote on WhatsApp before: the phone links both contacts.
    phone = f"55119{uuid.uuid4().int % 10**8:08d}"
    _whatsapp_ticket(live_server, phone)

    saved = client.put(
        panel_url,
        json={
            "name": " Ana Souza ",
            "email": "Ana@Example.com",
            "phone": f"+{phone[:2]} ({phone[2:4]}) {phone[4:]}",
            "custom_fields": {"plano": "Premium", "cpf": "", "cidade": "Recife"},
        },
        headers=agent,
    )
    assert saved.status_code == 200, saved.text
    panel = saved.json()
    assert (panel["name"], panel["email"], panel["phone"]) == ("Ana Souza", "ana@example.com", phone)
    assert panel["custom_fields"] == {"plano": "Premium", "cidade": "Recife"}, "empty values are dropped"
    assert {c["channel_type"] for c in panel["channels"]} == {"webchat", "whatsapp-cloud"}
    assert len(panel["tickets"]) == 2 and {t["channel_type"] for t in panel["tickets"]} == {
        "webchat",
        "whatsapp-cloud",
    }
    [listed] = [t for t in client.get("/api/v1/tickets", headers=agent).json() if t["id"] == ticket["id"]]
    assert listed["contact"] == "Ana Souza", "the inbox shows the new name"

    too_many = {f"f{i}": "x" for i in range(31)}
    assert client.put(panel_url, json={"custom_fields": too_many}, headers=agent).status_code == 422


def _whatsapp_ticket(live_server: LiveServer, phone: str) -> None:
    """A past WhatsApp conversation of the same person, escalated, through the app's own services."""
    from channels.service import get_or_create_channel, get_or_create_conversation
    from core.accounts import get_tenant, next_ticket_number
    from core.database import open_database
    from core.settings import Settings
    from handoff.service import open_ticket

    async def make() -> None:
        async with (
            open_database(Settings(data_dir=live_server.data_dir)) as database,
            database.sessionmaker.begin() as session,
        ):
            tenant = await get_tenant(session, "demo")
            channel = await get_or_create_channel(session, tenant.id, "whatsapp-cloud")
            _, conversation = await get_or_create_conversation(session, channel, phone, "Ana")
            await open_ticket(session, conversation, "customer asked for a person", next_ticket_number)

    asyncio.run(make())


def test_a_summary_on_demand_without_an_llm_reads_the_stored_conversation(
    client: httpx.Client, live_server: LiveServer
) -> None:
    session, agent, ticket = escalated(client, live_server)
    session.send("o boleto venceu ontem")
    session.wait_for(3)
    summary = client.post(f"/api/v1/tickets/{ticket['id']}/summary", headers=agent)
    assert summary.status_code == 200, summary.text
    body = summary.json()
    assert body["source"] == "offline"
    assert any("o boleto venceu ontem" in line for line in body["lines"])
    assert any("2 messages from the customer" in line for line in body["lines"])
    portuguese = client.post(f"/api/v1/tickets/{ticket['id']}/summary?lang=pt", headers=agent).json()
    assert any("2 mensagens do cliente" in line for line in portuguese["lines"])
    unknown = client.post(f"/api/v1/tickets/{ticket['id']}/summary?lang=xx", headers=agent)
    assert unknown.status_code == 422 and "lang" in unknown.text


def test_the_inbox_speaks_portuguese_or_english(live_server: LiveServer) -> None:
    client = httpx.Client(base_url=live_server.url)  # its own cookies
    assert ">Log in<" in client.get("/inbox").text
    portuguese = client.get("/inbox", headers={"Accept-Language": "pt-BR,pt;q=0.9,en;q=0.8"})
    assert ">Entrar<" in portuguese.text and 'lang="pt-BR"' in portuguese.text
    chosen = client.get("/inbox?lang=pt")
    assert chosen.cookies.get("atende_lang") == "pt"
    remembered = client.get("/inbox", cookies={"atende_lang": "pt"}, headers={"Accept-Language": "en"})
    assert ">Entrar<" in remembered.text and '"No tickets here.": "Nenhum ticket aqui."' in remembered.text
    english = client.get("/inbox?lang=en", headers={"Accept-Language": "pt-BR"})
    assert ">Log in<" in english.text
