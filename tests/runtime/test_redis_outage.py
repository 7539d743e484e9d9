"""Redis stops for 10 s while customers write on the web chat and a manager uploads a document, then
starts again (empty): every message and the upload are taken (stored in PostgreSQL before their jobs
are enqueued), no request fails with a 5xx, and once Redis is back every customer gets exactly one reply
and the document is embedded (the worker reads again, the sweep enqueues what could not be)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.conftest import start_atende, stop_atende
from tests.helpers import ChatCustomer, login
from tests.runtime.conftest import RedisServer, start_worker
from tests.waiting import stays_true

QUESTION = "Vocês parcelam no cartão de crédito?"
OUTAGE_SECONDS = 10
ARTICLE = b"# Frete\n\nO frete para Manaus leva 12 dias uteis pela transportadora Jabuti.\n"


def _wait(condition: Callable[[], object], what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


class Customers:
    """Customers of the demo shop on the web chat, each writing once."""

    def __init__(self, url: str) -> None:
        self._url = url
        self.sessions: list[ChatCustomer] = []

    def write(self) -> None:
        session = ChatCustomer.start(self._url)
        posted = session.send(QUESTION)
        assert posted.status_code == 202, f"{posted.status_code}: {posted.text}"
        self.sessions.append(session)

    def replies(self, session: ChatCustomer) -> list[str]:
        return [m["text"] for m in session.messages() if m["author"] != "customer"]

    def all_answered_once(self) -> bool:
        counts = [len(self.replies(session)) for session in self.sessions]
        assert all(count <= 1 for count in counts), f"a customer got more than one reply: {counts}"
        return all(count == 1 for count in counts)


def test_messages_written_while_redis_is_down_are_all_answered_once(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    env = {
        "ATENDE_REDIS_URL": redis_server.url,
        "ATENDE_TURN_FORGOTTEN_SECONDS": "3",  # the sweep enqueues what Redis could not take soon
        "ATENDE_INGEST_FORGOTTEN_SECONDS": "3",
        "ATENDE_OUTBOX_SWEEP_SECONDS": "1",
        "ATENDE_LEADER_LEASE_SECONDS": "3",
    }
    web, url = start_atende(data_dir, "demo", env=env)
    worker = start_worker(data_dir, env, "worker.log")
    customers = Customers(url)
    credentials = json.loads((data_dir / "demo-credentials.json").read_text())
    manager = login(
        httpx.Client(base_url=url), ("admin@demo.atende.dev", credentials["admin@demo.atende.dev"])
    )
    try:
        customers.write()
        customers.write()
        _wait(customers.all_answered_once, "the replies before the outage")

        redis_server.stop()
        outage_ends = time.monotonic() + OUTAGE_SECONDS
        uploaded = httpx.post(
            f"{url}/api/v1/kb/documents",
            headers=manager,
            files=[("files", ("frete-manaus.md", ARTICLE, "text/markdown"))],
            timeout=30,
        )
        assert uploaded.status_code == 202, f"{uploaded.status_code}: {uploaded.text}"
        [outcome] = uploaded.json()
        assert outcome["status"] == "queued"
        while time.monotonic() < outage_ends:
            customers.write()
            customers.replies(customers.sessions[0])  # reading the chat works too
            time.sleep(1)
        redis_server.start()

        customers.write()
        customers.write()
        _wait(customers.all_answered_once, "every customer's reply after the outage")
        stays_true(customers.all_answered_once, "no customer is answered twice")
        assert worker.poll() is None, "the worker died while Redis was away"
        for session in customers.sessions:
            [reply] = customers.replies(session)
            assert "10 vezes sem juros" in reply

        def document_status() -> str:
            listed = httpx.get(f"{url}/api/v1/kb/documents", headers=manager, timeout=30).json()
            return str(next(d["status"] for d in listed if d["id"] == outcome["document_id"]))

        _wait(lambda: document_status() == "embedded", "the upload embedded once Redis is back")
        server_log = (data_dir / "server.log").read_text()
        assert "job=atende.ingest_upload" in server_log and "job.enqueue_failed" in server_log
        assert "Jabuti" not in server_log, "the document's text is not logged"
    finally:
        stop_atende(worker)
        stop_atende(web)
