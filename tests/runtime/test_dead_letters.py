"""Jobs that fail for good, on a real Redis with ``atende worker``: a turn failing on every try is a dead
letter after its last try, listed by ``atende jobs failed`` and the admin API, and once the fault is
fixed a replay answers the customer exactly once; malformed jobs (a stream entry with no job at all
among them) are dead letters too, once each, and the worker goes on answering."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis import Redis

from tests.conftest import run_cli, start_atende, stop_atende
from tests.helpers import ChatCustomer, database_refuses_to_answer, login
from tests.runtime.conftest import start_worker
from tests.waiting import stays_true

QUEUE = "atende:jobs"


@dataclass(frozen=True)
class Cluster:
    url: str
    data_dir: Path
    redis_url: str
    worker: subprocess.Popen[bytes]
    admin: tuple[str, str]


@pytest.fixture(scope="module")
def cluster(module_redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """``atende demo`` enqueuing on Redis, one ``atende worker`` running the jobs and sweeping every
    second (a replay asked from the command line is handed out by the sweep)."""
    env = {
        "ATENDE_REDIS_URL": module_redis_url,
        "ATENDE_SECRET_KEY": "shared-by-every-process",
        "ATENDE_OUTBOX_SWEEP_SECONDS": "1",
    }
    data_dir = tmp_path_factory.mktemp("dead-letters")
    web, url = start_atende(data_dir, "demo", env=env)
    try:
        worker = start_worker(data_dir, env, "worker.log")
        credentials = json.loads((data_dir / "demo-credentials.json").read_text())
        admin = ("admin@demo.atende.dev", credentials["admin@demo.atende.dev"])
        try:
            yield Cluster(url, data_dir, module_redis_url, worker, admin)
        finally:
            stop_atende(worker)
    finally:
        stop_atende(web)


def _wait(condition: Callable[[], object], what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.3)


def _failed(cluster: Cluster) -> list[dict[str, Any]]:
    listed = run_cli(cluster.data_dir, "jobs", "failed", "--json")
    assert listed.returncode == 0, listed.stderr
    rows: list[dict[str, Any]] = json.loads(listed.stdout)
    return rows


def test_a_turn_failing_on_every_try_is_a_dead_letter_and_its_replay_answers_once(cluster: Cluster) -> None:
    session = ChatCustomer.start(cluster.url)
    question = f"Quanto tempo de garantia têm as plantas? ({session.session_id[:6]})"
    with (
        httpx.Client(base_url=cluster.url, timeout=10) as client,
        database_refuses_to_answer(cluster.data_dir, question) as fix,
    ):
        assert session.send(question).status_code == 202
        [customer_message] = session.messages()

        headers = login(client, cluster.admin)

        def dead_turn() -> dict[str, Any] | None:
            listed = client.get("/api/v1/admin/failed-jobs", headers=headers)
            assert listed.status_code == 200
            return next((j for j in listed.json() if j["ref_id"] == customer_message["id"]), None)

        _wait(dead_turn, "the turn's dead letter")
        shown = dead_turn()
        assert shown is not None
        assert shown["kind"] == "turn" and shown["attempts"] == 3 and shown["replayable"]
        [letter] = [j for j in _failed(cluster) if j["id"] == shown["id"]]
        assert letter["kind"] == "turn" and letter["attempts"] == 3 and letter["tenant"] == "demo"
        assert "refuses this message" in letter["error"]
        assert question not in json.dumps(letter), "the customer's text is not kept with the job"

        # Handing off failed too (it marks the message handled): nobody answered, nothing is retried.
        stays_true(lambda: len(session.messages()) == 1, "no answer while the fault lasts")

        fix()
        retried = run_cli(cluster.data_dir, "jobs", "retry", letter["id"], "--json")
        assert retried.returncode == 0, retried.stderr
        assert json.loads(retried.stdout) == {"retried": [letter["id"]]}

        _wait(lambda: len(session.messages()) >= 2, "the replayed turn's answer")
        stays_true(lambda: len(session.messages()) == 2, "exactly one answer")
        assert session.messages()[1]["author"] != "customer"
        _wait(lambda: dead_turn() is None, "the letter gone once replayed")


def test_malformed_jobs_are_dead_letters_and_the_worker_answers_the_next_message(cluster: Cluster) -> None:
    garbage = b"\x00\xffnot a job: " + uuid.uuid4().hex.encode()
    bad_id = {
        "task_id": uuid.uuid4().hex,
        "task_name": "atende.run_turn",
        "labels": {"retry_on_error": True},
        "args": ["not-a-message-id"],
        "kwargs": {},
    }
    with Redis.from_url(cluster.redis_url) as redis:
        redis.xadd(QUEUE, {"data": garbage})
        redis.xadd(QUEUE, {"data": json.dumps(bad_id).encode()})

    worker_log = cluster.data_dir / "worker.log"
    _wait(lambda: worker_log.read_text(errors="replace").count("kind=malformed") >= 2, "both kept")
    malformed = [j for j in _failed(cluster) if j["kind"] == "malformed"]
    errors = [j["error"] for j in malformed]
    assert any("not a taskiq message" in e for e in errors), errors
    assert any("message_id: 'not-a-message-id' is not a UUID" in e for e in errors), errors
    assert all(not j["replayable"] and j["tenant"] is None and j["attempts"] == 1 for j in malformed)
    refused = run_cli(cluster.data_dir, "jobs", "retry", malformed[0]["id"])
    assert refused.returncode == 2 and "malformed" in refused.stderr

    assert cluster.worker.poll() is None, "the worker is still running"
    assert garbage.split(b": ")[1] not in worker_log.read_bytes(), "the unreadable body is not logged"

    session = ChatCustomer.start(cluster.url)
    assert session.send("Quanto tempo de garantia têm as plantas?").status_code == 202
    _wait(lambda: len(session.messages()) >= 2, "the answer to the next message")


def test_a_stream_entry_with_no_data_is_one_malformed_letter_and_never_redelivered(cluster: Cluster) -> None:
    def no_data_letters() -> list[dict[str, Any]]:
        return [j for j in _failed(cluster) if j["kind"] == "malformed" and "no data field" in j["error"]]

    with Redis.from_url(cluster.redis_url) as redis:
        redis.xadd(QUEUE, {"payload": b"written by something else than atende"})
        _wait(no_data_letters, "the entry kept as malformed")
        _wait(lambda: redis.xpending(QUEUE, "taskiq")["pending"] == 0, "the entry acknowledged")

        # A read that brings a new job makes the worker claim idle ones too.
        session = ChatCustomer.start(cluster.url)
        assert session.send("Quanto tempo de garantia têm as plantas?").status_code == 202
        _wait(lambda: len(session.messages()) >= 2, "the answer to the next message")
        stays_true(lambda: redis.xpending(QUEUE, "taskiq")["pending"] == 0, "nothing left to redeliver")

    [letter] = no_data_letters()
    assert letter["attempts"] == 1 and not letter["replayable"] and letter["tenant"] is None
    assert cluster.worker.poll() is None, "the worker is still running"
    assert b"written by something else" not in (cluster.data_dir / "worker.log").read_bytes()
