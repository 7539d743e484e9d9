"""Signed outbound webhooks on a running ``atende demo``, to a real HTTP subscriber on 127.0.0.1.

The server runs with webhook retries waiting 0.2 s, then twice as long each time, 4 tries in all
(see the ``live_server`` fixture).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import helpers
from tests.conftest import LiveServer, start_atende, stop_atende
from tests.fakes._loopback import HTTPRequest, LoopbackServer, Response
from tests.helpers import AdminTenant, ChatCustomer, login, make_admin_tenant
from tests.waiting import stays_true

README = Path(__file__).parents[2] / "README.md"


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    status: int

    @property
    def event(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


class Subscriber(LoopbackServer):
    """A webhook receiver: answers 500 to the first ``fail_first`` tries of each delivery, then 200."""

    def __init__(self, fail_first: int = 0, always_fail: bool = False) -> None:
        super().__init__()
        self.fail_first, self.always_fail = fail_first, always_fail
        self.received: list[Received] = []
        self._tries: Counter[str] = Counter()
        self._guard = threading.Lock()

    def respond(self, request: HTTPRequest) -> Response:
        with self._guard:
            delivery = request.headers.get("x-atende-delivery", "")
            self._tries[delivery] += 1
            failing = self.always_fail or self._tries[delivery] <= self.fail_first
            status = 500 if failing else 200
            self.received.append(Received(request.headers, request.body, status))
        return Response.of_json(status, {"ok": not failing})

    @property
    def url(self) -> str:
        return f"{self.origin}/hooks/atende"

    def accepted(self) -> list[Received]:
        with self._guard:
            return [r for r in self.received if r.status == 200]


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """What a subscriber does, written from the README's description of the scheme."""
    signed = headers["x-atende-timestamp"].encode() + b"." + body
    expected = "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers["x-atende-signature"])


def readme_verify() -> Callable[[str, dict[str, str], bytes], bool]:
    """The verification snippet the README gives subscribers, run as written."""
    section = README.read_text().split("## Public API and webhooks", 1)[1].split("\n## ", 1)[0]
    snippet = section.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(snippet, namespace)  # noqa: S102 - our own README's example
    return namespace["verify"]  # type: ignore[no-any-return]


def eventually(condition: Callable[[], bool], timeout: float = 60) -> None:
    """Retries back off over seconds here, so the wait is longer than the helpers' default."""
    helpers.eventually(condition, timeout)


@pytest.fixture(scope="module")
def client(live_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        yield http


@pytest.fixture
def tenant(live_server: LiveServer) -> AdminTenant:
    return make_admin_tenant(live_server)


def subscribe(
    client: httpx.Client, admin: dict[str, str], url: str, events: list[str] | None = None
) -> dict[str, Any]:
    events = events or ["message.created", "message.updated", "ticket.created", "ticket.updated"]
    created = client.post("/api/v1/admin/webhooks", json={"url": url, "events": events}, headers=admin)
    assert created.status_code == 201, created.text
    return dict(created.json())


def customer_writes(client: httpx.Client, slug: str, text: str) -> ChatCustomer:
    customer = ChatCustomer.start(client, slug)
    sent = customer.send(text)
    assert sent.status_code == 202, sent.text
    return customer


def deliveries(client: httpx.Client, admin: dict[str, str], webhook_id: str) -> list[dict[str, Any]]:
    listed = client.get(f"/api/v1/admin/webhooks/{webhook_id}/deliveries", headers=admin)
    assert listed.status_code == 200, listed.text
    return list(listed.json())


def test_a_subscriber_failing_twice_gets_each_event_once_signed(
    client: httpx.Client, tenant: AdminTenant
) -> None:
    admin = login(client, tenant.admin)
    with Subscriber(fail_first=2) as subscriber:
        webhook = subscribe(client, admin, subscriber.url)
        assert webhook["secret"].startswith("whsec_")
        assert webhook["webhook"]["secret"] == "…" + webhook["secret"][-4:], "the list shows it masked"

        session = customer_writes(client, tenant.slug, "quero falar com um atendente, por favor")
        # The customer's message, the bot's answer, the ticket it opened: three events.
        eventually(lambda: len(subscriber.accepted()) >= 3)

        def each_once() -> bool:
            ids = [r.headers["x-atende-delivery"] for r in subscriber.accepted()]
            return len(ids) == len(set(ids))

        stays_true(each_once, "no second copy of any event")

        accepted = subscriber.accepted()
        delivery_ids = [r.headers["x-atende-delivery"] for r in accepted]
        assert len(delivery_ids) == len(set(delivery_ids)), "each event was delivered once"
        event_ids = [r.event["id"] for r in accepted]
        assert len(event_ids) == len(set(event_ids))
        as_sent = readme_verify()
        for received in accepted:
            assert verify(webhook["secret"], received.headers, received.body)
            named = {
                "X-Atende-Timestamp": received.headers["x-atende-timestamp"],
                "X-Atende-Signature": received.headers["x-atende-signature"],
            }
            assert as_sent(webhook["secret"], named, received.body)
            assert not as_sent("whsec_another", named, received.body)
            assert not as_sent(webhook["secret"], named, received.body + b" ")
            assert received.headers["x-atende-event"] == received.event["type"]
            assert abs(int(received.headers["x-atende-timestamp"]) - time.time()) < 120
            tries = [
                r
                for r in subscriber.received
                if r.headers["x-atende-delivery"] == received.headers["x-atende-delivery"]
            ]
            assert [t.status for t in tries] == [500, 500, 200]
            assert tries[0].body == received.body, "every try sends the same event"

        events = {r.event["type"]: r.event for r in accepted}
        assert {"message.created", "ticket.created"} <= set(events)
        texts = [r.event["data"]["message"]["text"] for r in accepted if r.event["type"] == "message.created"]
        assert "quero falar com um atendente, por favor" in texts, "the subscriber gets the customer's words"
        assert events["ticket.created"]["data"]["ticket"]["contact"] == session.name
        assert all(r.event["tenant_id"] == accepted[0].event["tenant_id"] for r in accepted)

        shown = deliveries(client, admin, webhook["id"])
        assert {d["id"] for d in shown} >= set(delivery_ids)
        assert all(d["status"] == "delivered" and d["attempts"] == 3 for d in shown)
        [listed] = client.get("/api/v1/admin/webhooks", headers=admin).json()
        assert listed["delivered"] == len(shown) and listed["failed"] == 0


def test_a_subscriber_that_keeps_failing_is_marked_failed_with_its_last_answer(
    client: httpx.Client, tenant: AdminTenant
) -> None:
    admin = login(client, tenant.admin)
    with Subscriber(always_fail=True) as subscriber:
        webhook = subscribe(client, admin, subscriber.url, ["message.created"])
        customer_writes(client, tenant.slug, "Olá, tudo bem?")
        eventually(lambda: any(d["status"] == "failed" for d in deliveries(client, admin, webhook["id"])))
        failed = next(d for d in deliveries(client, admin, webhook["id"]) if d["status"] == "failed")
        assert failed["attempts"] == 4
        assert failed["last_status_code"] == 500
        assert "HTTP 500" in failed["last_error"]
        tries = [r for r in subscriber.received if r.headers["x-atende-delivery"] == failed["id"]]
        assert len(tries) == 4

        subscriber.always_fail = False
        again = client.post(
            f"/api/v1/admin/webhooks/{webhook['id']}/deliveries/{failed['id']}/redeliver", headers=admin
        )
        assert again.status_code == 202, again.text
        eventually(
            lambda: any(
                d["id"] == failed["id"] and d["status"] == "delivered"
                for d in deliveries(client, admin, webhook["id"])
            )
        )
        assert [r.headers["x-atende-delivery"] for r in subscriber.accepted()].count(failed["id"]) == 1


def test_unreachable_subscribers_fail_with_the_error_and_deleted_ones_get_nothing(
    client: httpx.Client, tenant: AdminTenant
) -> None:
    admin = login(client, tenant.admin)
    with Subscriber() as gone:
        dead_url = gone.url
    webhook = subscribe(client, admin, dead_url, ["message.created"])
    customer_writes(client, tenant.slug, "Oi")
    eventually(lambda: any(d["status"] == "failed" for d in deliveries(client, admin, webhook["id"])))
    failed = next(d for d in deliveries(client, admin, webhook["id"]) if d["status"] == "failed")
    assert failed["last_status_code"] is None and "ConnectError" in failed["last_error"]

    with Subscriber() as subscriber:
        kept = subscribe(client, admin, subscriber.url, ["ticket.updated"])
        assert client.delete(f"/api/v1/admin/webhooks/{webhook['id']}", headers=admin).status_code == 204
        customer_writes(client, tenant.slug, "Oi de novo")
        stays_true(lambda: subscriber.received == [], "no ticket changed; message events were not asked for")
        assert [w["id"] for w in client.get("/api/v1/admin/webhooks", headers=admin).json()] == [kept["id"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://example.com/x", "events": ["message.created"]}, "url"),
        ({"url": "https://example.com:99999/x", "events": ["message.created"]}, "url"),
        ({"url": "https://example.com/x", "events": []}, "events"),
        ({"url": "https://example.com/x", "events": ["message.deleted"]}, "events"),
    ],
)
def test_bad_subscriptions_are_refused_naming_the_field(
    client: httpx.Client, live_server: LiveServer, body: dict[str, Any], field: str
) -> None:
    admin = login(client, live_server.admin)
    refused = client.post("/api/v1/admin/webhooks", json=body, headers=admin)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == field


def test_agents_cannot_see_or_add_webhooks(client: httpx.Client, live_server: LiveServer) -> None:
    agent = login(client, live_server.agent)
    assert client.get("/api/v1/admin/webhooks", headers=agent).status_code == 403
    created = client.post(
        "/api/v1/admin/webhooks",
        json={"url": "https://example.com", "events": ["message.created"]},
        headers=agent,
    )
    assert created.status_code == 403


def test_deliveries_pending_when_the_server_stops_are_sent_after_it_starts(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The next try's time is kept in the outbox, so it survives the restart: 30 s after the first."""
    data_dir = tmp_path_factory.mktemp("webhook-restart")
    slow = {
        "ATENDE_WEBHOOK_BACKOFF_SECONDS": "30",
        "ATENDE_WEBHOOK_ATTEMPTS": "6",
        "ATENDE_WEBHOOK_PRIVATE_NETWORKS": "1",  # the subscriber listens on 127.0.0.1
    }
    with Subscriber(always_fail=True) as subscriber:
        process, url = start_atende(data_dir, "demo", env=slow)
        try:
            with httpx.Client(base_url=url, timeout=30) as client:
                credentials = json.loads((data_dir / "demo-credentials.json").read_text())
                admin = login(client, ("admin@demo.atende.dev", credentials["admin@demo.atende.dev"]))
                webhook = subscribe(client, admin, subscriber.url, ["message.created"])
                customer_writes(client, "demo", "Olá")
                eventually(lambda: len(subscriber.received) >= 2)  # the first try of each event
                waiting = deliveries(client, admin, webhook["id"])
                assert all(d["status"] == "pending" and d["attempts"] == 1 for d in waiting)
        finally:
            stop_atende(process)  # the next tries were 30 s away

        subscriber.always_fail = False
        process, url = start_atende(data_dir, "serve", env=slow, log_name="restart.log")
        try:
            with httpx.Client(base_url=url, timeout=30) as client:
                admin = login(client, ("admin@demo.atende.dev", credentials["admin@demo.atende.dev"]))
                eventually(lambda: len(subscriber.accepted()) == len(waiting))
                after = deliveries(client, admin, webhook["id"])
                assert all(d["status"] == "delivered" and d["attempts"] == 2 for d in after)
                assert sorted(r.headers["x-atende-delivery"] for r in subscriber.accepted()) == sorted(
                    d["id"] for d in waiting
                )
        finally:
            stop_atende(process)
