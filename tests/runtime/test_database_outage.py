"""PostgreSQL stops while customers write on the web chat and on WhatsApp, then starts again.

While it is away every customer's POST and Meta's webhook get a 503 with ``Retry-After`` (never a 500,
never a 200 for a message not stored), ``/readyz`` says the database is down and ``/healthz`` stays up.
Once it is back, without restarting Atende, ``/readyz`` is 200 again, the customers' retries (with the
same message ids) are taken, and every customer is answered exactly once.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import httpx

from tests.conftest import run_cli, start_atende, stop_atende
from tests.fakes.graph_api import FakeGraphAPI, inbound, sign, text_message
from tests.helpers import ChatCustomer
from tests.runtime.conftest import StoppablePostgres
from tests.waiting import stays_true

QUESTION = "Vocês parcelam no cartão de crédito?"
ANSWER = "10 vezes sem juros"
APP_SECRET = "meta-app-secret-for-tests"


def _wait(condition: Callable[[], object], what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


class WebChatWriter:
    """One customer of the demo shop on the web chat, their session opened while the database is up."""

    def __init__(self, url: str) -> None:
        self._customer, self.message_id = ChatCustomer.start(url), uuid.uuid4().hex

    def write(self) -> httpx.Response:
        """The customer's one question; sent again, it carries the same message id."""
        return self._customer.send(QUESTION, message_id=self.message_id)

    def replies(self) -> list[str]:
        return [m["text"] for m in self._customer.messages() if m["author"] != "customer"]


class WhatsAppCustomer:
    """One WhatsApp user: Meta posts their message to the channel's webhook, signed, and posts the very
    same payload again when the answer is not a 2xx."""

    def __init__(self, url: str, channel_id: str, graph: FakeGraphAPI) -> None:
        self._graph, self.wa_id = graph, f"55119{uuid.uuid4().int % 10**8:08d}"
        self._webhook = f"{url}/webhooks/whatsapp-cloud/{channel_id}"
        message = text_message(QUESTION, wa_id=self.wa_id, message_id=f"wamid.OUTAGE{self.wa_id}")
        self._body = json.dumps(inbound(message, name="Rita")).encode()

    def write(self) -> httpx.Response:
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(self._body, APP_SECRET)}
        return httpx.post(self._webhook, content=self._body, headers=headers, timeout=30)

    def replies(self) -> list[str]:
        sent = [m for m in self._graph.sent_messages() if m["to"] == self.wa_id and m["type"] == "text"]
        return [str(m["text"]["body"]) for m in sent]


Customer = WebChatWriter | WhatsAppCustomer


def answered_once(customers: Sequence[Customer]) -> bool:
    counts = [len(customer.replies()) for customer in customers]
    assert all(count <= 1 for count in counts), f"a customer got more than one reply: {counts}"
    return all(count == 1 for count in counts)


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, f"{response.status_code}: {response.text}"
    assert int(response.headers["Retry-After"]) > 0
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "temporarily unavailable" in response.json()["detail"]


def test_while_postgres_is_down_requests_get_503_and_once_it_is_back_every_customer_is_answered_once(
    tmp_path: Path, stoppable_postgres: StoppablePostgres
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    env = {
        "ATENDE_DATABASE_URL": stoppable_postgres.url,
        "ATENDE_TURN_FORGOTTEN_SECONDS": "3",  # the sweep takes up soon the turns the outage stopped
        "ATENDE_OUTBOX_SWEEP_SECONDS": "1",
    }
    web, url = start_atende(data_dir, "demo", env=env)
    with FakeGraphAPI() as graph:
        added = run_cli(
            data_dir,
            *("channel", "add", "--tenant", "demo", "--type", "whatsapp-cloud", "--name", "numero"),
            *("--token", graph.access_token, "--app-secret", APP_SECRET, "--verify-token", "v"),
            *("--phone-number-id", graph.phone_number_id, "--api-base", graph.base_url, "--json"),
            env=env,
        )
        assert added.returncode == 0, added.stderr
        channel_id = str(json.loads(added.stdout)["id"])
        try:
            before = [WebChatWriter(url) for _ in range(2)]
            for customer in before:
                assert customer.write().status_code == 202
            _wait(lambda: answered_once(before), "the replies before the outage")
            ready = httpx.get(f"{url}/readyz", timeout=30)
            assert ready.status_code == 200, ready.text
            assert ready.json()["checks"] == {"database": "ok", "embedding_model": "ok"}

            just_before = [WebChatWriter(url) for _ in range(3)]  # their turns may meet the outage
            for customer in just_before:
                assert customer.write().status_code == 202
            during: list[Customer] = [WebChatWriter(url) for _ in range(4)]  # the page open already
            stoppable_postgres.stop()

            during.append(WhatsAppCustomer(url, channel_id, graph))
            for failing in during:
                assert_unavailable(failing.write())
            not_ready = httpx.get(f"{url}/readyz", timeout=30)
            assert not_ready.status_code == 503
            assert not_ready.json()["checks"]["database"] != "ok"
            assert httpx.get(f"{url}/healthz", timeout=30).status_code == 200

            stoppable_postgres.start()
            _wait(lambda: httpx.get(f"{url}/readyz", timeout=30).status_code == 200, "/readyz 200 again")
            for again in during:  # the page, and Meta, send what failed again
                assert again.write().status_code in (200, 202)

            everyone: list[Customer] = [*before, *just_before, *during]
            _wait(lambda: answered_once(everyone), "every customer's reply after the outage")
            stays_true(lambda: answered_once(everyone), "no customer is answered twice")
            assert all(ANSWER in each.replies()[0] for each in everyone)
            assert web.poll() is None, "Atende was not restarted"
            server_log = (data_dir / "server.log").read_text()
            assert "database.unavailable" in server_log
            assert QUESTION not in server_log, "no message body in the log"
        finally:
            stop_atende(web)
