"""Over HTTP on a running ``atende demo``: web chat, escalation, the agent's side, bad input."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer, run_cli
from tests.helpers import ChatCustomer, login, ticket_of
from tests.waiting import stays_true


@pytest.fixture(scope="module")
def client(live_server: LiveServer) -> httpx.Client:
    return httpx.Client(base_url=live_server.url, timeout=30)


def test_a_question_gets_a_grounded_answer_with_its_source(client: httpx.Client) -> None:
    session = ChatCustomer.start(client)
    accepted = session.send("Vocês parcelam no cartão de crédito?")
    assert accepted.status_code == 202
    customer, bot = session.wait_for(2)
    assert customer["id"] == accepted.json()["id"] and customer["author"] == "customer"
    assert bot["author"] == "bot"
    assert "10 vezes sem juros" in bot["text"]
    assert bot["citations"][0]["document"] == "formas-de-pagamento.md"
    assert bot["decision"] is None, "the customer must not see the agent's decision record"


def test_handoff_from_web_chat_to_an_agent_and_back(client: httpx.Client, live_server: LiveServer) -> None:
    session = ChatCustomer.start(client)
    assert session.send("quero falar com um atendente").status_code == 202
    _, notice = session.wait_for(2)
    assert "atendente humano" in notice["text"]

    headers = login(client, live_server.agent)
    ticket = ticket_of(client, headers, session.name)
    assert ticket["status"] == "pending" and ticket["reason"] == "the customer asked to talk to a person"
    assert ticket["protocol"] in notice["text"]

    accepted = client.post(f"/api/v1/tickets/{ticket['id']}/accept", headers=headers)
    assert accepted.status_code == 200 and accepted.json()["status"] == "open"
    reply = client.post(
        f"/api/v1/tickets/{ticket['id']}/messages", json={"text": "Oi! Aqui é a Bia."}, headers=headers
    )
    assert reply.status_code == 201
    assert [m["text"] for m in session.messages()][-1] == "Oi! Aqui é a Bia."

    # Later customer messages go to the human: stored, shown in the ticket, and the bot stays silent.
    assert session.send("Como uso meus pontos do Clube Nuvem?").status_code == 202
    stays_true(
        lambda: [m["author"] for m in session.messages()] == ["customer", "bot", "agent", "customer"],
        "the bot stays silent while a human owns the conversation",
    )
    detail = client.get(f"/api/v1/tickets/{ticket['id']}", headers=headers).json()
    assert detail["messages"][-1]["text"] == "Como uso meus pontos do Clube Nuvem?"
    assert detail["messages"][0]["decision"]["rule"] == "customer_asked_for_human"

    # Closing asks for a rating and hands the conversation back to the bot.
    closed = client.post(f"/api/v1/tickets/{ticket['id']}/close", headers=headers)
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    session.send("Como uso meus pontos do Clube Nuvem?")
    last = session.wait_for(7)[-1]
    assert last["author"] == "bot"
    assert last["citations"][0]["document"] == "clube-nuvem.md"


def test_only_one_of_two_agents_gets_a_ticket(client: httpx.Client, live_server: LiveServer) -> None:
    session = ChatCustomer.start(client)
    session.send("I want to talk to a human")
    session.wait_for(2)
    first, second = login(client, live_server.agent), login(client, live_server.second_agent)
    ticket = ticket_of(client, first, session.name)
    assert client.post(f"/api/v1/tickets/{ticket['id']}/accept", headers=first).status_code == 200
    taken = client.post(f"/api/v1/tickets/{ticket['id']}/accept", headers=second)
    assert taken.status_code == 409
    assert "already taken by Beto Agente" in taken.json()["detail"], "says who has it"
    assert (
        client.post(
            f"/api/v1/tickets/{ticket['id']}/messages", json={"text": "eu"}, headers=second
        ).status_code
        == 409
    )


def test_the_same_message_id_twice_is_stored_and_answered_once(client: httpx.Client) -> None:
    session = ChatCustomer.start(client)
    first = session.send("Qual o horário de atendimento?", message_id="page-msg-1")
    second = session.send("Qual o horário de atendimento?", message_id="page-msg-1")
    assert first.json()["id"] == second.json()["id"]
    assert second.json()["duplicate"] is True
    session.wait_for(2)
    stays_true(lambda: [m["author"] for m in session.messages()] == ["customer", "bot"], "answered once")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"session_id": "s"}, "text"),
        ({"session_id": "s", "text": ""}, "text"),
        ({"session_id": "s", "text": "   "}, "text"),
        ({"session_id": "s", "text": "x" * 4097}, "text"),
        ({"session_id": "s", "text": 42}, "text"),
        ({"session_id": 7, "text": "oi"}, "session_id"),
        ({"text": "oi"}, "session_id"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_stored(
    client: httpx.Client, body: dict[str, Any], field: str
) -> None:
    session = ChatCustomer.start(client)
    if body.get("session_id") == "s":
        body = {**body, "session_id": session.session_id}
    response = client.post("/api/v1/webchat/demo/messages", json=body, headers=session.headers)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in response.json()["errors"]]
    assert session.messages() == []


def test_unknown_tenant_is_404(client: httpx.Client) -> None:
    response = client.post("/api/v1/webchat/nobody/messages", json={"session_id": "s", "text": "oi"})
    assert response.status_code == 404
    assert response.json()["detail"] == "tenant 'nobody' not found"
    assert client.get("/chat/nobody").status_code == 404


def test_tickets_need_a_valid_login(client: httpx.Client, live_server: LiveServer) -> None:
    assert client.get("/api/v1/tickets").status_code == 401
    wrong = client.post("/api/v1/auth/login", json={"email": live_server.agent[0], "password": "not-it"})
    assert wrong.status_code == 401
    assert wrong.json()["detail"] == "wrong e-mail or password"


def test_another_tenants_agent_cannot_see_or_touch_a_ticket(
    client: httpx.Client, live_server: LiveServer
) -> None:
    session = ChatCustomer.start(client)
    session.send("quero falar com um atendente")
    session.wait_for(2)
    ticket = ticket_of(client, login(client, live_server.agent), session.name)

    assert run_cli(live_server.data_dir, "tenant", "create", "rival").returncode == 0
    rival = ("agent@rival.example", "rival-agent-pass")
    assert (
        run_cli(
            live_server.data_dir,
            "user",
            "create",
            "--tenant",
            "rival",
            "--email",
            rival[0],
            "--password",
            rival[1],
            "--role",
            "agent",
        ).returncode
        == 0
    )
    headers = login(client, rival)
    assert client.get("/api/v1/tickets", headers=headers).json() == []
    assert client.get(f"/api/v1/tickets/{ticket['id']}", headers=headers).status_code == 404
    assert client.post(f"/api/v1/tickets/{ticket['id']}/accept", headers=headers).status_code == 404


def test_the_demo_comes_with_a_supervisor_quick_replies_and_tags(
    client: httpx.Client, live_server: LiveServer
) -> None:
    credentials = json.loads((live_server.data_dir / "demo-credentials.json").read_text())
    supervisor = login(client, ("supervisor@demo.atende.dev", credentials["supervisor@demo.atende.dev"]))
    assert client.get("/api/v1/supervisor/queues", headers=supervisor).status_code == 200
    session = ChatCustomer.start(client)
    session.send("quero falar com um atendente")
    session.wait_for(2)
    agent = login(client, live_server.agent)
    ticket = ticket_of(client, agent, session.name)
    [hello] = client.get(
        f"/api/v1/tickets/{ticket['id']}/quick-replies", params={"q": "/ola"}, headers=agent
    ).json()
    assert hello["text"] == "Olá! Aqui é Beto Agente, da Jardim Nuvem. Como posso ajudar?", "no name given"
    assert {"VIP", "Reclamação"} <= {t["name"] for t in client.get("/api/v1/tags", headers=agent).json()}
