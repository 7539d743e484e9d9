"""Closing a ticket asks the customer for a 1-5 score on their channel; the answer is kept with the ticket."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import LiveServer
from tests.helpers import ChatCustomer, login, ticket_of


@pytest.fixture(scope="module")
def client(live_server: LiveServer) -> httpx.Client:
    return httpx.Client(base_url=live_server.url, timeout=60)


def test_the_customer_rates_the_closed_ticket_and_then_talks_to_the_bot_again(
    client: httpx.Client, live_server: LiveServer
) -> None:
    session = ChatCustomer.start(client)
    session.send("quero falar com um atendente")
    session.wait_for(2)
    agent = login(client, live_server.agent)
    ticket = ticket_of(client, agent, session.name)
    assert client.post(f"/api/v1/tickets/{ticket['id']}/accept", headers=agent).status_code == 200
    assert client.post(f"/api/v1/tickets/{ticket['id']}/close", headers=agent).status_code == 200
    question = session.wait_for(3)[-1]
    assert question["author"] == "bot" and "de 1 a 5" in question["text"]

    session.send("5")
    thanks = session.wait_for(5)[-1]
    assert thanks["text"] == "Obrigado pela avaliação!"
    rated = client.get(f"/api/v1/tickets/{ticket['id']}", headers=agent).json()["ticket"]
    assert rated["csat_rating"] == 5

    session.send("Vocês parcelam no cartão de crédito?")
    answer = session.wait_for(7)[-1]
    assert "10 vezes sem juros" in answer["text"], "a question after the score goes to the bot"
    assert len(session.messages()) == 7
