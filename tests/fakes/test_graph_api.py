"""httpx against FakeGraphAPI: the fake speaks the WhatsApp Cloud API's wire format."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from tests.fakes.graph_api import (
    FakeGraphAPI,
    GraphError,
    audio_message,
    failed_status,
    inbound,
    sign,
    status,
    text_message,
    webhook_payload,
)


@pytest.fixture
def fake() -> Iterator[FakeGraphAPI]:
    with FakeGraphAPI(access_token="EAAG-test-token") as server:
        yield server


@pytest.fixture
async def graph(fake: FakeGraphAPI) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"authorization": f"Bearer {fake.access_token}"}
    async with httpx.AsyncClient(base_url=f"{fake.base_url}/{fake.version}", headers=headers) as client:
        yield client


def text(to: str, body: str) -> dict[str, object]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "text",
        "text": {"body": body},
    }


async def test_sending_a_text_returns_a_wamid(fake: FakeGraphAPI, graph: httpx.AsyncClient) -> None:
    response = await graph.post(f"/{fake.phone_number_id}/messages", json=text("+55 11 98765-4321", "Olá!"))

    assert response.status_code == 200
    body = response.json()
    assert body["messaging_product"] == "whatsapp"
    assert body["contacts"] == [{"input": "+55 11 98765-4321", "wa_id": "5511987654321"}]
    assert body["messages"][0]["id"].startswith("wamid.")
    assert fake.sent_messages()[0]["text"]["body"] == "Olá!"


async def test_errors_have_graphs_body_and_status(fake: FakeGraphAPI, graph: httpx.AsyncClient) -> None:
    path = f"/{fake.phone_number_id}/messages"
    async with httpx.AsyncClient(base_url=graph.base_url) as anonymous:
        no_bearer = await anonymous.post(path, json=text("5511987654321", "oi"))
    not_whatsapp = await graph.post(path, json=text("5511987654321", "oi") | {"messaging_product": "sms"})
    fake.script("messages", GraphError.re_engagement(), GraphError.rate_limited())
    window_closed = await graph.post(path, json=text("5511987654321", "oi"))
    throttled = await graph.post(path, json=text("5511987654321", "oi"))
    delivered = await graph.post(path, json=text("5511987654321", "oi"))

    assert no_bearer.status_code == 401
    assert no_bearer.json()["error"]["code"] == 190 and no_bearer.json()["error"]["type"] == "OAuthException"
    assert "fbtrace_id" in no_bearer.json()["error"]
    assert not_whatsapp.status_code == 400 and not_whatsapp.json()["error"]["code"] == 100
    assert window_closed.status_code == 400 and window_closed.json()["error"]["code"] == 131047
    assert "24 hours" in window_closed.json()["error"]["error_data"]["details"]
    assert throttled.status_code == 429 and throttled.json()["error"]["code"] == 130429
    assert delivered.status_code == 200
    assert len(fake.calls("messages")) == 5


async def test_uploaded_media_comes_back_through_its_url(
    fake: FakeGraphAPI, graph: httpx.AsyncClient
) -> None:
    pdf = b"%PDF-1.7 fake invoice" * 50

    uploaded = await graph.post(
        f"/{fake.phone_number_id}/media",
        data={"messaging_product": "whatsapp", "type": "application/pdf"},
        files={"file": ("fatura.pdf", pdf, "application/pdf")},
    )
    media_id = uploaded.json()["id"]
    info = (await graph.get(f"/{media_id}")).json()
    downloaded = await graph.get(info["url"])
    async with httpx.AsyncClient() as anonymous:
        refused = await anonymous.get(info["url"])

    assert info["mime_type"] == "application/pdf" and info["id"] == media_id
    assert info["sha256"] == hashlib.sha256(pdf).hexdigest() and int(info["file_size"]) == len(pdf)
    assert downloaded.status_code == 200 and downloaded.content == pdf
    assert refused.status_code == 401
    assert fake.calls("media")[0].files["file"].filename == "fatura.pdf"


def test_webhook_payloads_and_their_signature() -> None:
    reply = text_message("quero falar com alguém", reply_to="wamid.HBgNOUTBOUND")
    payload = inbound(reply, name="Carla")
    voice = webhook_payload(messages=[audio_message("1203040506")])
    receipts = webhook_payload(statuses=[status("wamid.A", "delivered"), failed_status("wamid.B")])
    body = json.dumps(payload).encode()

    value = payload["entry"][0]["changes"][0]["value"]
    assert payload["object"] == "whatsapp_business_account"
    assert value["metadata"]["phone_number_id"] and value["contacts"][0]["profile"]["name"] == "Carla"
    assert value["messages"][0]["context"]["id"] == "wamid.HBgNOUTBOUND"
    assert voice["entry"][0]["changes"][0]["value"]["messages"][0]["audio"]["voice"] is True
    failed = receipts["entry"][0]["changes"][0]["value"]["statuses"][1]
    assert failed["status"] == "failed" and failed["errors"][0]["code"] == 131047
    expected = hmac.new(b"app-secret", body, hashlib.sha256).hexdigest()
    assert sign(body, "app-secret") == f"sha256={expected}"
