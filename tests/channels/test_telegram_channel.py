"""A Telegram channel on a running ``atende demo``: the real aiogram bot against a loopback Bot API.

The customer writes through the webhook (as Telegram would POST it); what the bot and the agent say
arrives at the fake Telegram server, which records it as the customer's app would receive it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer, run_cli
from tests.fakes.telegram_api import (
    FakeTelegram,
    TelegramCall,
    TelegramError,
    document_update,
    message_update,
    text_update,
)
from tests.helpers import ChannelCustomer, eventually, login, ticket_for
from tests.waiting import stays_true

SECRET = "s3cret-webhook-token"


@pytest.fixture(scope="module")
def telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram(token="123456789:AAE-atende-test-token") as fake:
        yield fake


@pytest.fixture(scope="module")
def channel_id(live_server: LiveServer, telegram: FakeTelegram) -> str:
    added = run_cli(
        live_server.data_dir,
        *("channel", "add", "--tenant", "demo", "--type", "telegram", "--name", "bot"),
        *("--token", telegram.token, "--webhook-secret", SECRET, "--api-base", telegram.base_url, "--json"),
    )
    assert added.returncode == 0, added.stderr
    return str(json.loads(added.stdout)["id"])


@pytest.fixture(scope="module")
def client(live_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        yield http


class Customer(ChannelCustomer):
    """One Telegram user writing to the bot: posts updates, reads what the bot sent to their chat."""

    def __init__(self, client: httpx.Client, telegram: FakeTelegram, channel_id: str) -> None:
        self.client, self.telegram, self.channel_id = client, telegram, channel_id
        self.chat_id = int(uuid.uuid4().int % 10**9) + 10**9
        self.name = f"Ana {self.chat_id}"
        self.next_id = 1

    def post(self, update: dict[str, Any], secret: str | None = SECRET) -> httpx.Response:
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        return self.client.post(f"/webhooks/telegram/{self.channel_id}", json=update, headers=headers)

    def says(self, text: str) -> httpx.Response:
        self.next_id += 1
        update = text_update(
            text, update_id=self.chat_id + self.next_id, chat_id=self.chat_id, message_id=self.next_id
        )
        update["message"]["from"]["first_name"] = self.name
        return self.post(update)

    def received(self) -> list[TelegramCall]:
        return [c for c in self.telegram.calls("sendMessage") if int(c.params["chat_id"]) == self.chat_id]

    def texts(self) -> list[str]:
        return [str(c.params["text"]) for c in self.received()]


@pytest.fixture
def customer(client: httpx.Client, telegram: FakeTelegram, channel_id: str) -> Customer:
    return Customer(client, telegram, channel_id)


def test_question_answer_with_sources_handoff_and_an_agents_reply_all_on_telegram(
    client: httpx.Client, live_server: LiveServer, telegram: FakeTelegram, customer: Customer
) -> None:
    assert customer.says("Vocês parcelam no cartão de crédito?").status_code == 200
    [answer] = customer.wait_for_replies(1)
    assert "10 vezes sem juros" in answer
    assert "📄" in answer, "the sources follow the answer on a plain-text channel"
    assert any(int(c.params["chat_id"]) == customer.chat_id for c in telegram.calls("sendChatAction"))

    customer.says("quero falar com um atendente")
    _, handoff = customer.wait_for_replies(2)
    assert "atendente humano" in handoff

    agent = login(client, live_server.agent)
    ticket = ticket_for(client, agent, customer.name)
    assert client.post(f"/api/v1/tickets/{ticket['id']}/accept", headers=agent).status_code == 200
    sent = client.post(
        f"/api/v1/tickets/{ticket['id']}/messages",
        json={"text": "Oi! Sou a Bia, vou te ajudar."},
        headers=agent,
    )
    assert sent.status_code == 201, sent.text
    *_, from_agent = customer.wait_for_replies(3)
    assert from_agent == "Oi! Sou a Bia, vou te ajudar."

    def history() -> list[dict[str, Any]]:
        return list(client.get(f"/api/v1/tickets/{ticket['id']}", headers=agent).json()["messages"])

    assert [m["author"] for m in history()] == ["customer", "bot", "customer", "bot", "agent"]
    eventually(lambda: all(m["delivery_status"] == "sent" for m in history() if m["direction"] == "outbound"))


def test_the_same_update_twice_is_stored_and_answered_once(customer: Customer, client: httpx.Client) -> None:
    update = text_update("Qual o prazo de entrega?", update_id=customer.chat_id, chat_id=customer.chat_id)
    assert customer.post(update).status_code == 200
    assert customer.post(update).status_code == 200
    customer.wait_for_replies(1)
    stays_true(lambda: len(customer.received()) == 1, "answered once")


@pytest.mark.parametrize(("secret", "status"), [(None, 401), ("not-the-secret", 403)])
def test_a_webhook_without_the_channels_secret_is_refused_and_nothing_is_stored(
    customer: Customer, secret: str | None, status: int
) -> None:
    update = text_update("oi", update_id=customer.chat_id, chat_id=customer.chat_id)
    refused = customer.post(update, secret=secret)
    assert refused.status_code == status
    assert "X-Telegram-Bot-Api-Secret-Token" in refused.json()["detail"]
    # The same update with the right secret is new: nothing of the refused one was kept.
    assert customer.post(update).status_code == 200
    assert len(customer.wait_for_replies(1)) == 1


def test_malformed_updates_get_400_with_the_reason_and_unknown_kinds_are_ignored(
    client: httpx.Client, customer: Customer, channel_id: str
) -> None:
    garbage = client.post(
        f"/webhooks/telegram/{channel_id}",
        content=b"{not json",
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"},
    )
    assert garbage.status_code == 400 and "not a Telegram update" in garbage.json()["detail"]
    missing_id = customer.post({"message": {"text": "oi"}})
    assert missing_id.status_code == 400 and "update_id" in missing_id.json()["detail"]

    edited = message_update("edited_message", update_id=customer.chat_id, chat_id=customer.chat_id, text="x")
    assert customer.post(edited).status_code == 200
    assert (
        customer.post({"update_id": customer.chat_id + 1, "some_future_kind": {"id": 1}}).status_code == 200
    )
    stays_true(lambda: customer.received() == [], "nothing to answer")


def test_an_unknown_channel_is_404(client: httpx.Client) -> None:
    response = client.post(
        f"/webhooks/telegram/{uuid.uuid4()}",
        json=text_update("oi"),
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
    )
    assert response.status_code == 404


def test_a_reply_telegram_refuses_for_a_while_arrives_once_after_retries(
    customer: Customer, telegram: FakeTelegram
) -> None:
    telegram.script("sendMessage", TelegramError.server_error(), TelegramError.too_many_requests(1))
    customer.says("Vocês parcelam no cartão de crédito?")
    tries = customer.wait_for_replies(3)
    assert len(set(tries)) == 1 and "10 vezes sem juros" in tries[0], "the same reply, tried three times"
    stays_true(lambda: len(customer.received()) == 3, "delivered on the third try, and not again")


def test_a_blocked_bot_marks_the_message_failed_and_the_agent_can_resend_it(
    client: httpx.Client, live_server: LiveServer, telegram: FakeTelegram, customer: Customer
) -> None:
    customer.says("quero falar com um atendente")
    customer.wait_for_replies(1)
    agent = login(client, live_server.agent)
    ticket = ticket_for(client, agent, customer.name)
    client.post(f"/api/v1/tickets/{ticket['id']}/accept", headers=agent)
    telegram.script("sendMessage", TelegramError.blocked())
    sent = client.post(
        f"/api/v1/tickets/{ticket['id']}/messages", json={"text": "Oi, tudo bem?"}, headers=agent
    )
    assert sent.status_code == 201
    message_id = sent.json()["id"]

    def status() -> dict[str, Any]:
        history = client.get(f"/api/v1/tickets/{ticket['id']}", headers=agent).json()["messages"]
        [message] = [m for m in history if m["id"] == message_id]
        return message

    eventually(lambda: status()["delivery_status"] == "failed")
    assert "blocked by the user" in status()["delivery_error"]
    assert len(customer.received()) == 2, "the hand-off, then one try only: a blocked bot is not retried"

    resent = client.post(f"/api/v1/tickets/{ticket['id']}/messages/{message_id}/resend", headers=agent)
    assert resent.status_code == 202
    assert customer.wait_for_replies(3)[-1] == "Oi, tudo bem?"
    again = client.post(f"/api/v1/tickets/{ticket['id']}/messages/{message_id}/resend", headers=agent)
    assert again.status_code == 409, "only a failed message is sent again"


def test_channel_add_refuses_bad_options_naming_the_field(live_server: LiveServer) -> None:
    missing = run_cli(live_server.data_dir, "channel", "add", "--tenant", "demo", "--type", "telegram")
    assert missing.returncode == 1 and "token" in missing.stderr
    bad = run_cli(
        live_server.data_dir,
        *("channel", "add", "--tenant", "demo", "--type", "telegram", "--token", "not-a-token"),
    )
    assert bad.returncode == 1 and "token" in bad.stderr
    listed = run_cli(live_server.data_dir, "channel", "list", "--tenant", "demo", "--json")
    assert listed.returncode == 0
    assert all("not-a-token" not in json.dumps(row) for row in json.loads(listed.stdout))


def test_an_agent_sends_a_photo_and_the_customer_receives_its_bytes_with_the_caption(
    client: httpx.Client, live_server: LiveServer, telegram: FakeTelegram, customer: Customer
) -> None:
    customer.says("quero falar com um atendente")
    customer.wait_for_replies(1)
    agent = login(client, live_server.agent)
    ticket = ticket_for(client, agent, customer.name)
    photo = b"\x89PNG\r\n\x1a\n" + uuid.uuid4().bytes
    sent = client.post(
        f"/api/v1/tickets/{ticket['id']}/attachments",
        files={"file": ("planta.png", photo, "image/png")},
        data={"text": "Veja como deve ficar"},
        headers=agent,
    )
    assert sent.status_code == 201, sent.text
    assert sent.json()["content"]["attachments"][0]["kind"] == "image"

    def photos() -> list[TelegramCall]:
        return [c for c in telegram.calls("sendPhoto") if int(c.params["chat_id"]) == customer.chat_id]

    eventually(lambda: len(photos()) == 1)
    [call] = photos()
    assert call.files["photo"].data == photo
    assert call.params["caption"] == "Veja como deve ficar"

    refused = client.post(
        f"/api/v1/tickets/{ticket['id']}/attachments",
        files={"file": ("setup.exe", b"MZ\x90\x00", "application/x-msdownload")},
        headers=agent,
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "file"


def test_a_file_over_the_limit_or_of_a_refused_type_is_answered_with_why(
    customer: Customer,
) -> None:
    big = document_update(
        "BQAC-too-big",
        file_name="video.pdf",
        file_size=200 * 1024 * 1024,
        update_id=customer.chat_id,
        chat_id=customer.chat_id,
    )
    assert customer.post(big).status_code == 200
    [too_large] = customer.wait_for_replies(1)
    assert "passa de 16 MB" in too_large

    exe = document_update(
        "BQAC-exe",
        file_name="programa.exe",
        mime_type="application/x-msdownload",
        file_size=1000,
        update_id=customer.chat_id + 1,
        chat_id=customer.chat_id,
        message_id=2,
    )
    assert customer.post(exe).status_code == 200
    assert "tipo de arquivo" in customer.wait_for_replies(2)[1]


def test_an_admin_rotates_a_channels_webhook_secret_and_a_bad_change_changes_nothing(
    client: httpx.Client, live_server: LiveServer, telegram: FakeTelegram
) -> None:
    admin = login(client, live_server.admin)
    added = client.post(
        "/api/v1/admin/channels",
        json={
            "type": "telegram",
            "name": "rotating",
            "token": telegram.token,
            "webhook_secret": "old-secret-1",
        },
        headers=admin,
    )
    assert added.status_code == 201, added.text
    url = f"/api/v1/admin/channels/{added.json()['id']}"
    update = text_update("oi", update_id=int(uuid.uuid4().int % 10**9), chat_id=4321)

    def hook(secret: str) -> int:
        return client.post(
            f"/webhooks/telegram/{added.json()['id']}",
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": secret},
        ).status_code

    for bad, field in (
        ({"token": "not-a-token"}, "token"),
        ({"type": "whatsapp-cloud"}, "type"),
        ({"name": "Bad Name!"}, "name"),
        ({"colour": "blue"}, "colour"),
    ):
        refused = client.patch(url, json=bad, headers=admin)
        assert refused.status_code == 422 and field in refused.text, (bad, refused.text)
    assert hook("new-secret-2") == 403, "nothing changed"

    rotated = client.patch(url, json={"webhook_secret": "new-secret-2", "name": "rotated"}, headers=admin)
    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["name"] == "rotated" and rotated.json()["credentials"]["webhook_secret"].endswith(
        "t-2"
    )
    assert rotated.json()["credentials"]["token"] == added.json()["credentials"]["token"], "the token is kept"
    assert hook("old-secret-1") == 403
    assert hook("new-secret-2") == 200

    agent = login(client, live_server.agent)
    assert client.patch(url, json={"name": "x"}, headers=agent).status_code == 403
    missing = client.patch(f"/api/v1/admin/channels/{uuid.uuid4()}", json={"name": "x"}, headers=admin)
    assert missing.status_code == 404
