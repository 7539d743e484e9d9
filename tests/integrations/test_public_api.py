"""The public API on a running ``atende demo``: API keys made by an admin, used by another system."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer, run_cli
from tests.fakes.telegram_api import FakeTelegram, text_update
from tests.helpers import ChatCustomer, login, make_admin_tenant


@pytest.fixture(scope="module")
def client(live_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        yield http


@pytest.fixture(scope="module")
def admin(client: httpx.Client, live_server: LiveServer) -> dict[str, str]:
    return login(client, live_server.admin)


def new_key(client: httpx.Client, admin: dict[str, str], name: str = "CRM sync") -> dict[str, Any]:
    created = client.post("/api/v1/admin/api-keys", json={"name": name}, headers=admin)
    assert created.status_code == 201, created.text
    return dict(created.json())


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="module")
def demo_key(client: httpx.Client, admin: dict[str, str]) -> str:
    return str(new_key(client, admin, "public API tests")["key"])


def web_chat_contact(
    client: httpx.Client, key: str, text: str = "Olá!"
) -> tuple[ChatCustomer, dict[str, Any]]:
    """A customer who wrote on the demo's web chat (and got an answer), as the API lists them."""
    session = ChatCustomer.start(client)
    assert session.send(text).status_code == 202
    session.wait_for(2)
    found = client.get(
        "/api/v1/public/contacts", params={"external_id": session.session_id}, headers=bearer(key)
    )
    assert found.status_code == 200, found.text
    [contact] = found.json()["items"]
    return session, contact


def test_a_key_is_shown_once_works_and_stops_working_when_revoked(
    client: httpx.Client, admin: dict[str, str]
) -> None:
    created = new_key(client, admin, "Zapier")
    key = created["key"]
    assert key.startswith("atd_") and len(key) > 40
    assert created["api_key"]["prefix"] == key[:12]

    used = client.get("/api/v1/public/conversations", headers=bearer(key))
    assert used.status_code == 200, used.text
    assert client.get("/api/v1/public/tickets", headers={"X-API-Key": key}).status_code == 200

    listed = client.get("/api/v1/admin/api-keys", headers=admin)
    assert key not in listed.text, "the key is never shown again"
    [row] = [k for k in listed.json() if k["id"] == created["id"]]
    assert row["name"] == "Zapier" and row["last_used_at"] and row["revoked_at"] is None
    assert row["created_by"] == "admin@demo.atende.dev"

    revoked = client.delete(f"/api/v1/admin/api-keys/{created['id']}", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    refused = client.get("/api/v1/public/conversations", headers=bearer(key))
    assert refused.status_code == 401
    assert refused.json()["detail"] == "unknown or revoked API key"


@pytest.mark.parametrize(
    "headers",
    [{}, bearer("atd_not-a-real-key"), {"X-API-Key": "nope"}, bearer("eyJhbGciOiJIUzI1NiJ9.e30.x")],
)
def test_calls_without_a_live_key_are_refused(client: httpx.Client, headers: dict[str, str]) -> None:
    assert client.get("/api/v1/public/contacts", headers=headers).status_code == 401


def test_a_login_token_is_not_an_api_key_and_agents_cannot_make_keys(
    client: httpx.Client, admin: dict[str, str], live_server: LiveServer
) -> None:
    assert client.get("/api/v1/public/contacts", headers=admin).status_code == 401
    agent = login(client, live_server.agent)
    assert client.post("/api/v1/admin/api-keys", json={"name": "x"}, headers=agent).status_code == 403
    assert client.get("/api/v1/admin/api-keys", headers=agent).status_code == 403


def test_a_message_sent_through_the_api_reaches_the_web_chat_once(
    client: httpx.Client, demo_key: str, live_server: LiveServer
) -> None:
    session, contact = web_chat_contact(client, demo_key)
    body = {
        "channel_id": contact["channel_id"],
        "contact": session.session_id,
        "text": "Seu pedido 1234 saiu para entrega.",
        "message_id": f"order-{uuid.uuid4()}",
    }
    sent = client.post("/api/v1/public/messages", json=body, headers=bearer(demo_key))
    assert sent.status_code == 201, sent.text
    assert sent.json()["author"] == "agent" and sent.json()["direction"] == "outbound"
    again = client.post("/api/v1/public/messages", json=body, headers=bearer(demo_key))
    assert again.json()["id"] == sent.json()["id"], "a retried call with the same message_id is sent once"

    shown = session.wait_for(3)
    assert [m["text"] for m in shown].count("Seu pedido 1234 saiu para entrega.") == 1
    assert shown[-1]["author"] == "agent"

    history = client.get(
        f"/api/v1/public/conversations/{sent.json()['conversation_id']}/messages", headers=bearer(demo_key)
    ).json()
    assert [m["author"] for m in history["items"]] == ["customer", "bot", "agent"]
    assert history["total"] == 3


def test_a_message_to_a_telegram_contact_is_delivered_by_telegram(
    client: httpx.Client, demo_key: str, live_server: LiveServer
) -> None:
    chat_id = 700_000_000 + uuid.uuid4().int % 10**6
    with FakeTelegram(token="987654321:AAE-public-api-test") as telegram:
        added = run_cli(
            live_server.data_dir,
            *("channel", "add", "--tenant", "demo", "--type", "telegram", "--name", f"api-{chat_id}"),
            *("--token", telegram.token, "--webhook-secret", "s3cret", "--api-base", telegram.base_url),
            "--json",
        )
        assert added.returncode == 0, added.stderr
        channel_id = json.loads(added.stdout)["id"]
        update = text_update("Oi", update_id=chat_id, chat_id=chat_id, message_id=1)
        posted = client.post(
            f"/webhooks/telegram/{channel_id}",
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"},
        )
        assert posted.status_code == 200

        def to_chat() -> list[str]:
            return [
                str(c.params["text"])
                for c in telegram.calls("sendMessage")
                if int(c.params["chat_id"]) == chat_id
            ]

        deadline = time.monotonic() + 90
        while not to_chat():
            assert time.monotonic() < deadline, "the bot never answered"
            time.sleep(0.2)
        body = {"channel_id": channel_id, "contact": str(chat_id), "text": "Seu boleto vence amanhã."}
        sent = client.post("/api/v1/public/messages", json=body, headers=bearer(demo_key))
        assert sent.status_code == 201, sent.text
        deadline = time.monotonic() + 30
        while "Seu boleto vence amanhã." not in to_chat():
            assert time.monotonic() < deadline, "the API's message never reached Telegram"
            time.sleep(0.2)


def test_conversations_tickets_and_contacts_are_listed_a_page_at_a_time(
    client: httpx.Client, demo_key: str
) -> None:
    session, contact = web_chat_contact(client, demo_key, "quero falar com um atendente")
    first = client.get("/api/v1/public/conversations", params={"limit": 1}, headers=bearer(demo_key)).json()
    assert first["limit"] == 1 and first["offset"] == 0 and len(first["items"]) == 1 and first["total"] >= 1
    assert first["items"][0]["contact"]["external_id"] == session.session_id, "newest first"
    second = client.get(
        "/api/v1/public/conversations", params={"limit": 1, "offset": 1}, headers=bearer(demo_key)
    ).json()
    assert second["items"] == [] or second["items"][0]["id"] != first["items"][0]["id"]

    tickets = client.get("/api/v1/public/tickets", params={"status": "pending"}, headers=bearer(demo_key))
    assert tickets.status_code == 200
    assert session.name in [t["contact"] for t in tickets.json()["items"]]
    too_many = client.get("/api/v1/public/tickets", params={"limit": 1000}, headers=bearer(demo_key))
    assert too_many.status_code == 400 or too_many.status_code == 422

    renamed = client.patch(
        f"/api/v1/public/contacts/{contact['id']}", json={"name": "Maria Souza"}, headers=bearer(demo_key)
    )
    assert renamed.status_code == 200, renamed.text
    got = client.get(f"/api/v1/public/contacts/{contact['id']}", headers=bearer(demo_key)).json()
    assert got["name"] == "Maria Souza"


def test_another_tenants_key_sees_none_of_it(
    client: httpx.Client, demo_key: str, live_server: LiveServer
) -> None:
    session, contact = web_chat_contact(client, demo_key)
    other = make_admin_tenant(live_server)
    other_key = new_key(client, login(client, other.admin), "other tenant")["key"]
    theirs = bearer(other_key)

    assert client.get(f"/api/v1/public/contacts/{contact['id']}", headers=theirs).status_code == 404
    renamed = client.patch(f"/api/v1/public/contacts/{contact['id']}", json={"name": "x"}, headers=theirs)
    assert renamed.status_code == 404
    body = {"channel_id": contact["channel_id"], "contact": session.session_id, "text": "spam"}
    assert client.post("/api/v1/public/messages", json=body, headers=theirs).status_code == 404
    conversations = client.get("/api/v1/public/conversations", headers=bearer(demo_key)).json()["items"]
    conversation_id = next(
        c["id"] for c in conversations if c["contact"]["external_id"] == session.session_id
    )
    listed = client.get(f"/api/v1/public/conversations/{conversation_id}/messages", headers=theirs)
    assert listed.status_code == 404
    for path in ("/api/v1/public/conversations", "/api/v1/public/tickets", "/api/v1/public/contacts"):
        assert client.get(path, headers=theirs).json()["total"] == 0
    assert "spam" not in [m["text"] for m in session.wait_for(2)]


def test_a_contact_that_never_wrote_is_not_found(client: httpx.Client, demo_key: str) -> None:
    _, contact = web_chat_contact(client, demo_key)
    body = {"channel_id": contact["channel_id"], "contact": "nobody-here", "text": "oi"}
    missing = client.post("/api/v1/public/messages", json=body, headers=bearer(demo_key))
    assert missing.status_code == 404
    assert "nobody-here" in missing.json()["detail"]
    bad = client.post("/api/v1/public/messages", json={**body, "text": ""}, headers=bearer(demo_key))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "text"


def test_the_openapi_schema_documents_the_public_api(client: httpx.Client) -> None:
    schema = client.get("/schema/openapi.json")
    assert schema.status_code == 200
    spec = schema.json()
    paths = spec["paths"]
    for path in (
        "/api/v1/public/messages",
        "/api/v1/public/conversations",
        "/api/v1/public/tickets",
        "/api/v1/public/contacts",
        "/api/v1/public/contacts/{contact_id}",
    ):
        assert path in paths, path
    assert paths["/api/v1/public/messages"]["post"]["security"] == [{"ApiKey": []}]
    scheme = spec["components"]["securitySchemes"]["ApiKey"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "X-API-Key")
    docs = client.get("/schema/swagger")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_the_cli_makes_a_key_that_works(client: httpx.Client, live_server: LiveServer) -> None:
    made = run_cli(
        live_server.data_dir, "apikey", "create", "--tenant", "demo", "--name", "cron job", "--json"
    )
    assert made.returncode == 0, made.stderr
    key = json.loads(made.stdout)["key"]
    assert client.get("/api/v1/public/contacts", params={"limit": 1}, headers=bearer(key)).status_code == 200
