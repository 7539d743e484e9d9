"""The agent who opens an escalated ticket sees what the customer wants and replies grounded in the KB."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.conftest import LiveServer
from tests.helpers import ChatCustomer, login, ticket_of


@pytest.fixture(scope="module")
def client(live_server: LiveServer) -> httpx.Client:
    return httpx.Client(base_url=live_server.url, timeout=60)


def test_the_handoff_summary_and_a_suggested_reply_with_its_source(
    client: httpx.Client, live_server: LiveServer
) -> None:
    session = ChatCustomer.start(client)
    session.send("Vocês parcelam no cartão de crédito?")
    session.wait_for(2)
    session.send("quero falar com um atendente")
    session.wait_for(4)
    agent = login(client, live_server.agent)
    ticket = ticket_of(client, agent, session.name)

    assist = client.get(f"/api/v1/tickets/{ticket['id']}/assist", headers=agent)
    assert assist.status_code == 200, assist.text
    summary = assist.json()["summary"]
    assert summary["wants"] == "Vocês parcelam no cartão de crédito?", "not the request for a person"
    assert any("10 vezes" in tried for tried in summary["bot_tried"])
    assert "person" in summary["escalated_because"]
    assert summary["intent"] == "human_agent" and summary["sentiment"]
    [first, *_] = assist.json()["suggestions"]
    assert "10 vezes sem juros" in first["text"]
    assert first["citations"][0]["document"] == "formas-de-pagamento.md"

    other = client.get(f"/api/v1/tickets/{uuid.uuid4()}/assist", headers=agent)
    assert other.status_code == 404
