"""A WhatsApp Cloud API channel on a running ``atende demo``, against a loopback Graph API.

The customer writes through the webhook (signed as Meta signs it); what the bot and the agent say
arrives at the fake Graph API, which records it as WhatsApp would take it. Delivery statuses come
back through the same webhook and show on the message in the inbox API.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from channels.base import ChannelAccess, DeliveryFailedError
from channels.media_store import LocalMediaStore
from channels.whatsapp_cloud import WhatsAppCloudAdapter
from tests.channels.outgoing import outgoing
from tests.conftest import LiveServer, run_cli
from tests.fakes._loopback import HTTPRequest, Response
from tests.fakes.graph_api import (
    FakeGraphAPI,
    GraphError,
    failed_status,
    image_message,
    inbound,
    sign,
    status,
    text_message,
    webhook_payload,
)
from tests.helpers import ChannelCustomer, eventually, login, ticket_for
from tests.waiting import stays_true

APP_SECRET = "meta-app-secret-for-tests"
VERIFY_TOKEN = "atende-verify-me"
JPEG = b"\xff\xd8\xff\xe0" + b"fake jpeg of a broken vase" * 40


class GraphAPI(FakeGraphAPI):
    """The fake, also keeping the wamid it gave each message it took (status webhooks name them)."""

    def __init__(self) -> None:
        super().__init__(access_token="EAAG-atende-test-token")
        self.wamids: list[tuple[str, str]] = []
        self._wamids_lock = threading.Lock()
        self.before_answering: Callable[[str], object] | None = None
        """Called with the new wamid before Graph answers the send: a status webhook can outrun it."""

    def respond(self, request: HTTPRequest) -> Response:
        response = super().respond(request)
        if response.status == 200 and request.verb == "POST" and request.path.endswith("/messages"):
            wamid = json.loads(response.body)["messages"][0]["id"]
            with self._wamids_lock:
                self.wamids.append((str(request.json()["to"]), wamid))
            if self.before_answering:
                self.before_answering(wamid)
        return response

    def wamids_to(self, wa_id: str) -> list[str]:
        with self._wamids_lock:
            return [wamid for to, wamid in self.wamids if to == wa_id]


@pytest.fixture(scope="module")
def graph() -> Iterator[GraphAPI]:
    with GraphAPI() as fake:
        yield fake


@pytest.fixture(scope="module")
def channel_id(live_server: LiveServer, graph: GraphAPI) -> str:
    added = run_cli(
        live_server.data_dir,
        *("channel", "add", "--tenant", "demo", "--type", "whatsapp-cloud", "--name", "numero"),
        *("--token", graph.access_token, "--app-secret", APP_SECRET, "--verify-token", VERIFY_TOKEN),
        *("--phone-number-id", graph.phone_number_id, "--api-base", graph.base_url, "--json"),
    )
    assert added.returncode == 0, added.stderr
    return str(json.loads(added.stdout)["id"])


@pytest.fixture(scope="module")
def client(live_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        yield http


SIGNED = "signed"


class Customer(ChannelCustomer):
    """One WhatsApp user writing to the business number: posts signed webhooks, reads what was sent."""

    def __init__(self, client: httpx.Client, graph: GraphAPI, channel_id: str) -> None:
        self.client, self.graph, self.channel_id = client, graph, channel_id
        self.wa_id = f"55119{uuid.uuid4().int % 10**8:08d}"
        self.name = f"Maria {self.wa_id[-6:]}"
        self.sent = 0

    def post(self, payload: dict[str, Any], signature: str | None = SIGNED) -> httpx.Response:
        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"}
        if signature is not None:
            headers["X-Hub-Signature-256"] = sign(body, APP_SECRET) if signature == SIGNED else signature
        return self.client.post(f"/webhooks/whatsapp-cloud/{self.channel_id}", content=body, headers=headers)

    def message(self, text: str) -> dict[str, Any]:
        self.sent += 1
        return inbound(
            text_message(text, wa_id=self.wa_id, message_id=f"wamid.IN{self.wa_id}{self.sent}"),
            name=self.name,
        )

    def says(self, text: str) -> httpx.Response:
        return self.post(self.message(text))

    def received(self) -> list[dict[str, Any]]:
        return [m for m in self.graph.sent_messages() if m["to"] == self.wa_id]

    def texts(self) -> list[str]:
        return [str(m["text"]["body"]) for m in self.received() if m["type"] == "text"]


@pytest.fixture
def customer(client: httpx.Client, graph: GraphAPI, channel_id: str) -> Customer:
    return Customer(client, graph, channel_id)


def history(client: httpx.Client, headers: dict[str, str], ticket_id: str) -> list[dict[str, Any]]:
    return list(client.get(f"/api/v1/tickets/{ticket_id}", headers=headers).json()["messages"])


def test_question_answer_with_sources_handoff_and_an_agents_reply_all_on_whatsapp(
    client: httpx.Client, live_server: LiveServer, graph: GraphAPI, customer: Customer
) -> None:
    assert customer.says("Vocês parcelam no cartão de crédito?").status_code == 200
    [answer] = customer.wait_for_replies(1)
    assert "10 vezes sem juros" in answer
    assert "📄" in answer, "the sources follow the answer on a plain-text channel"
    assert all(call.headers["authorization"] == f"Bearer {graph.access_token}" for call in graph.requests)

    customer.says("quero falar com um atendente")
    _, handoff = customer.wait_for_replies(2)
    assert "atendente humano" in handoff

    agent = login(client, live_server.agent)
    ticket_id = ticket_for(client, agent, customer.name)["id"]
    assert client.post(f"/api/v1/tickets/{ticket_id}/accept", headers=agent).status_code == 200
    sent = client.post(
        f"/api/v1/tickets/{ticket_id}/messages", json={"text": "Oi! Sou a Bia, vou te ajudar."}, headers=agent
    )
    assert sent.status_code == 201, sent.text
    *_, from_agent = customer.wait_for_replies(3)
    assert from_agent == "Oi! Sou a Bia, vou te ajudar."

    assert [m["author"] for m in history(client, agent, ticket_id)] == [
        *("customer", "bot", "customer", "bot", "agent")
    ]
    eventually(
        lambda: all(
            m["delivery_status"] == "sent"
            for m in history(client, agent, ticket_id)
            if m["direction"] == "outbound"
        )
    )


def test_meta_verification_challenge_is_echoed_only_for_the_channels_verify_token(
    client: httpx.Client, channel_id: str
) -> None:
    url = f"/webhooks/whatsapp-cloud/{channel_id}"
    ok = client.get(
        url, params={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}
    )
    assert ok.status_code == 200
    assert ok.text == "1158201444" and ok.headers["content-type"].startswith("text/plain")
    wrong = client.get(
        url, params={"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"}
    )
    assert wrong.status_code == 403 and "verify token" in wrong.json()["detail"]
    assert client.get(url, params={"hub.challenge": "1"}).status_code == 403


@pytest.mark.parametrize(
    ("signature", "status_code"),
    [(None, 401), ("sha256=" + "0" * 64, 403), (sign(b"another body", APP_SECRET), 403)],
    ids=["missing", "wrong", "another-body"],
)
def test_a_webhook_without_a_valid_signature_is_refused_and_nothing_is_stored(
    customer: Customer, signature: str | None, status_code: int
) -> None:
    payload = customer.message("Qual o prazo de entrega?")
    refused = customer.post(payload, signature=signature)
    assert refused.status_code == status_code
    assert "X-Hub-Signature-256" in refused.json()["detail"]
    # The same message, signed: new to Atende, as nothing of the refused one was kept.
    assert customer.post(payload).status_code == 200
    assert len(customer.wait_for_replies(1)) == 1


def test_malformed_webhooks_get_400_with_the_reason_and_unknown_types_are_ignored(
    client: httpx.Client, customer: Customer, channel_id: str
) -> None:
    garbage = b"{not json"
    bad_json = client.post(
        f"/webhooks/whatsapp-cloud/{channel_id}",
        content=garbage,
        headers={"X-Hub-Signature-256": sign(garbage, APP_SECRET), "Content-Type": "application/json"},
    )
    assert bad_json.status_code == 400 and "not a WhatsApp webhook" in bad_json.json()["detail"]
    no_id = customer.message("oi")
    del no_id["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    missing_id = customer.post(no_id)
    assert missing_id.status_code == 400
    assert "entry[0].changes[0].value.messages[0].id" in missing_id.json()["detail"]

    reaction = {
        "from": customer.wa_id,
        "id": f"wamid.REACTION{customer.wa_id}",
        "timestamp": "1750000000",
        "type": "reaction",
        "reaction": {"message_id": "wamid.OUT", "emoji": "👍"},
    }
    assert customer.post(inbound(reaction)).status_code == 200
    other_field = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "account_update", "value": {"event": "VERIFIED"}}]}],
    }
    assert customer.post(other_field).status_code == 200
    another_number = webhook_payload(
        messages=[text_message("oi", wa_id=customer.wa_id, message_id=f"wamid.OTHER{customer.wa_id}")],
        phone_number_id="999000111",
    )
    assert customer.post(another_number).status_code == 200
    stays_true(lambda: customer.received() == [], "nothing to answer from this number")


def test_the_same_webhook_twice_is_stored_and_answered_once(customer: Customer) -> None:
    payload = customer.message("Qual o prazo de entrega?")
    assert customer.post(payload).status_code == 200
    assert customer.post(payload).status_code == 200
    customer.wait_for_replies(1)
    stays_true(lambda: len(customer.received()) == 1, "answered once")


def test_delivery_statuses_move_forward_only_and_a_failure_shows_its_reason(
    client: httpx.Client, live_server: LiveServer, graph: GraphAPI, customer: Customer
) -> None:
    customer.says("quero falar com um atendente")
    customer.wait_for_replies(1)
    agent = login(client, live_server.agent)
    ticket_id = ticket_for(client, agent, customer.name)["id"]
    client.post(f"/api/v1/tickets/{ticket_id}/accept", headers=agent)
    client.post(f"/api/v1/tickets/{ticket_id}/messages", json={"text": "Oi, tudo bem?"}, headers=agent)
    customer.wait_for_replies(2)

    def outbound() -> list[dict[str, Any]]:
        return [m for m in history(client, agent, ticket_id) if m["direction"] == "outbound"]

    eventually(lambda: [m["delivery_status"] for m in outbound()] == ["sent", "sent"])
    handoff_wamid, agent_wamid = graph.wamids_to(customer.wa_id)
    for state in ("delivered", "read"):
        assert customer.post(webhook_payload(statuses=[status(handoff_wamid, state)])).status_code == 200
        assert outbound()[0]["delivery_status"] == state
    late = webhook_payload(statuses=[status(handoff_wamid, "delivered"), status("wamid.UNKNOWN", "read")])
    assert customer.post(late).status_code == 200
    assert outbound()[0]["delivery_status"] == "read", "a late 'delivered' does not undo 'read'"

    assert customer.post(webhook_payload(statuses=[failed_status(agent_wamid)])).status_code == 200
    failed = outbound()[1]
    assert failed["delivery_status"] == "failed"
    assert "131047" in failed["delivery_error"] and "24 hours" in failed["delivery_error"]


def test_a_status_that_outruns_the_send_it_reports_is_not_lost(
    client: httpx.Client, live_server: LiveServer, graph: GraphAPI, customer: Customer
) -> None:
    customer.says("quero falar com um atendente")
    customer.wait_for_replies(1)
    agent = login(client, live_server.agent)
    ticket_id = ticket_for(client, agent, customer.name)["id"]
    client.post(f"/api/v1/tickets/{ticket_id}/accept", headers=agent)
    early: list[int] = []
    # Meta's "delivered" webhook arrives before Graph has even answered the send.
    graph.before_answering = lambda wamid: early.append(
        customer.post(webhook_payload(statuses=[status(wamid, "delivered")])).status_code
    )
    try:
        client.post(f"/api/v1/tickets/{ticket_id}/messages", json={"text": "Já vejo isso."}, headers=agent)
        eventually(lambda: bool(early))
    finally:
        graph.before_answering = None
    assert early == [200]
    eventually(lambda: history(client, agent, ticket_id)[-1]["delivery_status"] == "delivered")


def test_a_reply_outside_the_24_hour_window_fails_at_once_with_graphs_reason(
    client: httpx.Client, live_server: LiveServer, graph: GraphAPI, customer: Customer
) -> None:
    graph.script("messages", GraphError.re_engagement())
    customer.says("quero falar com um atendente")
    agent = login(client, live_server.agent)
    ticket_id = ticket_for(client, agent, customer.name)["id"]

    def reply() -> dict[str, Any]:
        return history(client, agent, ticket_id)[1]

    eventually(lambda: reply()["delivery_status"] == "failed")
    assert "Re-engagement" in reply()["delivery_error"] and "24 hours" in reply()["delivery_error"]
    stays_true(
        lambda: len([c for c in graph.calls("messages") if c.json["to"] == customer.wa_id]) == 1,
        "a closed customer-service window is not retried",
    )


def test_a_reply_graph_refuses_for_a_while_arrives_once_after_retries(
    customer: Customer, graph: GraphAPI
) -> None:
    graph.script("messages", GraphError.server_error(), GraphError.rate_limited())
    customer.says("Vocês parcelam no cartão de crédito?")
    tries = customer.wait_for_replies(3)
    assert len(set(tries)) == 1 and "10 vezes sem juros" in tries[0], "the same reply, tried three times"
    stays_true(lambda: len(customer.received()) == 3, "delivered on the third try, and not again")
    assert len(graph.wamids_to(customer.wa_id)) == 1


def test_a_customers_photo_is_fetched_through_graph_into_the_media_dir(
    client: httpx.Client, live_server: LiveServer, graph: GraphAPI, customer: Customer
) -> None:
    media_id = graph.add_media(JPEG, "image/jpeg")
    photo = image_message(media_id, wa_id=customer.wa_id, message_id=f"wamid.IMG{customer.wa_id}")
    assert customer.post(inbound(photo, name=customer.name)).status_code == 200
    customer.wait_for_replies(1)  # a photo without words goes to a human
    agent = login(client, live_server.agent)
    ticket_id = ticket_for(client, agent, customer.name)["id"]

    [attachment] = history(client, agent, ticket_id)[0]["content"]["attachments"]
    assert attachment["kind"] == "image" and attachment["mime_type"] == "image/jpeg"
    assert (live_server.data_dir / "media" / attachment["path"]).read_bytes() == JPEG
    assert [c.path for c in graph.calls("retrieve_media")][-1].endswith(f"/{media_id}")


async def test_a_file_goes_out_uploaded_then_sent_by_its_media_id(tmp_path: Path) -> None:
    (tmp_path / "t").mkdir()
    pdf = b"%PDF-1.7 nota fiscal" * 30
    (tmp_path / "t" / "a1b2.pdf").write_bytes(pdf)
    attachment = {
        "kind": "document",
        "file_id": "local",
        "path": "t/a1b2.pdf",
        "file_name": "nota-fiscal.pdf",
        "mime_type": "application/pdf",
    }
    message = outgoing("Segue a sua nota fiscal.", attachment)
    # the fake Graph listens on 127.0.0.1
    adapter = WhatsAppCloudAdapter(LocalMediaStore(tmp_path), allow_private_networks=True)
    with FakeGraphAPI(access_token="EAAG-file-test") as fake:
        access = ChannelAccess(
            uuid.uuid4(),
            uuid.uuid4(),
            "whatsapp-cloud",
            {"api_base": fake.base_url, "phone_number_id": fake.phone_number_id},
            {"token": fake.access_token},
        )
        try:
            wamid = await adapter.deliver(access, "5511987654321", message)
            fake.script("media", GraphError.invalid_token())
            with pytest.raises(DeliveryFailedError) as refused:
                await adapter.deliver(access, "5511987654321", message)
        finally:
            await adapter.close()

    [sent] = fake.sent_messages()
    assert wamid is not None and wamid.startswith("wamid.")
    assert sent["type"] == "document" and sent["document"]["caption"] == "Segue a sua nota fiscal."
    assert sent["document"]["filename"] == "nota-fiscal.pdf"
    assert fake.media[sent["document"]["id"]].data == pdf
    assert not refused.value.retryable and "access token" in refused.value.reason
