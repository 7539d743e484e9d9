"""Over HTTP on a running ``atende demo``: a web chat session is the server's to issue, and its token
is what reads, posts and listens; posts and new sessions are counted per session and per address.

Each limit test writes from its own loopback address (127.0.0.x), as separate customers would.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import websockets

from tests.conftest import LiveServer, start_atende, stop_atende
from tests.helpers import ChatCustomer, login, make_admin_tenant, ticket_for


def test_reading_a_transcript_needs_the_sessions_own_token(live_server: LiveServer) -> None:
    customer = ChatCustomer.start(live_server.url)
    assert customer.send("Meu CPF é 123.456.789-09, vocês parcelam?").status_code == 202
    assert customer.messages()[0]["text"].startswith("Meu CPF")
    history = f"{live_server.url}/api/v1/webchat/demo/sessions/{customer.session_id}/messages"

    assert httpx.get(history).status_code == 401, "the session id alone grants nothing"
    wrong = httpx.get(history, headers={"Authorization": "Bearer not-the-token"})
    assert wrong.status_code == 401 and "CPF" not in wrong.text

    other = ChatCustomer.start(live_server.url)
    assert httpx.get(history, headers=other.headers).status_code == 401, "another session's token"

    elsewhere = ChatCustomer.start(live_server.url, make_admin_tenant(live_server).slug)
    forged = ChatCustomer(
        live_server.url, "demo", elsewhere.session_id, elsewhere.token, elsewhere.name
    ).transcript()
    assert forged.status_code == 401, "a token of another tenant is refused here"


def test_posting_to_a_session_the_browser_chose_is_refused(live_server: LiveServer) -> None:
    url = f"{live_server.url}/api/v1/webchat/demo/messages"
    for session in ("a", f"s-{uuid.uuid4()}"):
        refused = httpx.post(url, json={"session_id": session, "text": "oi"})
        assert refused.status_code == 401, refused.text
    customer = ChatCustomer.start(live_server.url)
    assert httpx.post(url, json={"session_id": customer.session_id, "text": "oi"}).status_code == 401
    stolen = httpx.post(url, json={"session_id": "a", "text": "oi"}, headers=customer.headers)
    assert stolen.status_code == 401, "a token is good for its own session only"
    assert customer.messages() == [], "nothing was stored"


def test_the_live_socket_needs_the_token(live_server: LiveServer) -> None:
    customer = ChatCustomer.start(live_server.url)
    bare = customer.events_url.split("?")[0]

    async def refused(url: str) -> int:
        with pytest.raises(websockets.InvalidStatus) as refusal:
            async with websockets.connect(url) as socket_:
                await asyncio.wait_for(socket_.recv(), timeout=10)
        return refusal.value.response.status_code

    async def hears_its_message() -> dict[str, Any]:
        async with websockets.connect(customer.events_url) as socket_:
            assert (await customer.asend("Vocês parcelam no cartão?")).status_code == 202
            while True:  # the bot's typing comes first
                event = dict(json.loads(await asyncio.wait_for(socket_.recv(), timeout=30)))
                if event["type"] == "message.created":
                    return event

    assert asyncio.run(refused(bare)) == 403
    assert asyncio.run(refused(f"{bare}?token=guess")) == 403
    heard = asyncio.run(hears_its_message())
    assert heard["message"]["author"] == "bot" and "10 vezes sem juros" in heard["message"]["text"]


def test_the_team_and_api_clients_never_see_the_token(live_server: LiveServer) -> None:
    customer = ChatCustomer.start(live_server.url)
    assert customer.name.startswith("Visitante ") and customer.token not in customer.name
    customer.send("quero falar com um atendente")
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        agent = login(client, live_server.agent)
        ticket = ticket_for(client, agent, customer.name)
        panel = client.get(f"/api/v1/tickets/{ticket['id']}/contact", headers=agent).json()
    assert panel["name"] == customer.name
    [channel] = panel["channels"]
    assert channel["external_id"] == customer.session_id
    assert customer.token not in json.dumps(panel)


# ---- limits, on a server with the default allowances ----------------------------------------------


@pytest.fixture(scope="module")
def limited_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``atende demo`` with the web chat's default limits (the suite's servers lift the per-address ones)."""
    defaults = {
        "ATENDE_WEBCHAT_POSTS_PER_MINUTE": "20",
        "ATENDE_WEBCHAT_ADDRESS_POSTS_PER_MINUTE": "60",
        "ATENDE_WEBCHAT_ADDRESS_SESSIONS_PER_MINUTE": "10",
    }
    process, url = start_atende(tmp_path_factory.mktemp("limited"), "demo", env=defaults)
    try:
        yield url
    finally:
        stop_atende(process)


def _from(address: str, url: str) -> httpx.Client:
    """A client whose requests come from ``address`` (any 127.0.0.x reaches the server on loopback)."""
    return httpx.Client(base_url=url, timeout=30, transport=httpx.HTTPTransport(local_address=address))


def _session(client: httpx.Client) -> tuple[str, dict[str, str]]:
    issued = client.post("/api/v1/webchat/demo/sessions")
    assert issued.status_code == 201, issued.text
    return issued.json()["session_id"], {"Authorization": f"Bearer {issued.json()['token']}"}


def _post(client: httpx.Client, session: tuple[str, dict[str, str]], text: str) -> httpx.Response:
    session_id, headers = session
    return client.post(
        "/api/v1/webchat/demo/messages", json={"session_id": session_id, "text": text}, headers=headers
    )


def _waits(response: httpx.Response) -> int:
    assert response.status_code == 429, response.text
    wait = int(response.headers["Retry-After"])
    assert 1 <= wait <= 60
    return wait


def test_one_session_may_post_twenty_messages_a_minute(limited_server: str) -> None:
    with _from("127.0.0.11", limited_server) as client:
        session = _session(client)
        answers = [_post(client, session, f"pergunta {n}").status_code for n in range(20)]
        assert answers == [202] * 20
        refused = _post(client, session, "a vigésima primeira")
        _waits(refused)
        assert "too many messages in this chat" in refused.json()["detail"]
        assert _post(client, _session(client), "outra conversa").status_code == 202


def test_one_address_may_post_sixty_messages_a_minute_across_its_sessions(limited_server: str) -> None:
    with _from("127.0.0.12", limited_server) as client:
        sessions = [_session(client) for _ in range(4)]
        answers = [_post(client, s, f"pergunta {n}").status_code for s in sessions for n in range(15)]
        assert answers == [202] * 60
        refused = _post(client, _session(client), "mais uma")
        _waits(refused)
        assert "from this address" in refused.json()["detail"]
    with _from("127.0.0.13", limited_server) as neighbour:
        assert _post(neighbour, _session(neighbour), "oi").status_code == 202, "another address is not held"


def test_one_address_may_start_ten_chats_a_minute(limited_server: str) -> None:
    with _from("127.0.0.14", limited_server) as client:
        started = [client.post("/api/v1/webchat/demo/sessions").status_code for _ in range(10)]
        assert started == [201] * 10
        refused = client.post("/api/v1/webchat/demo/sessions")
        _waits(refused)
        assert "too many new chats" in refused.json()["detail"]
