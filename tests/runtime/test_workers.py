"""``atende worker`` on a real Redis: the web process only enqueues, a worker killed mid-turn leaves the
turn to another, and the customer gets exactly one reply. Bad settings are clear errors."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.conftest import ATENDE, start_atende, stop_atende
from tests.fakes.llm_servers import FakeDelay, FakeOpenAI
from tests.helpers import ChatCustomer, metric
from tests.runtime.conftest import free_port, start_worker
from tests.waiting import stays_true

QUESTION = "Quanto tempo de garantia têm as plantas?"
ANSWER = "As plantas têm garantia de 15 dias a partir da entrega [1]."


def _wait(condition: Callable[[], object], what: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def _post(customer: ChatCustomer, text: str) -> None:
    posted = customer.send(text)
    assert posted.status_code == 202, posted.text


def test_a_worker_killed_mid_turn_leaves_it_to_another_and_the_customer_gets_one_reply(
    tmp_path: Path, redis_url: str
) -> None:
    with FakeOpenAI(lambda body: ANSWER) as llm:
        llm.script(FakeDelay(120))  # the first call hangs: its worker is killed while the model "writes"
        env = {
            "ATENDE_REDIS_URL": redis_url,
            "ATENDE_SECRET_KEY": "shared-by-every-process",
            "ATENDE_LLM_PROVIDER": "openai-compatible",
            "ATENDE_LLM_BASE_URL": llm.base_url,
            "ATENDE_LLM_MODEL": "local-model",
            "ATENDE_JOB_REDELIVER_SECONDS": "2",
        }
        data_dir = tmp_path / "data"
        data_dir.mkdir()
        web, url = start_atende(data_dir, "demo", env=env)
        try:
            first = start_worker(data_dir, env, "first-worker.log")
            session = ChatCustomer.start(url)
            try:
                _post(session, QUESTION)
                _wait(lambda: len(llm.requests) == 1, "the model call")
            finally:
                os.kill(first.pid, signal.SIGKILL)
                first.wait()

            second = start_worker(data_dir, env, "second-worker.log")
            try:
                # taskiq-redis takes over a dead worker's jobs after a read that brought new ones.
                _post(ChatCustomer.start(url), "oi")

                def replies() -> list[dict[str, object]]:
                    return [m for m in session.messages() if m["author"] != "customer"]

                _wait(lambda: len(replies()) >= 1, "the reply from the second worker")
                stays_true(lambda: len(replies()) == 1, "no second, duplicate reply")
                [reply] = replies()
                assert reply["text"] == "As plantas têm garantia de 15 dias a partir da entrega."
                assert "turn.done" in (data_dir / "second-worker.log").read_text()
                assert "turn.done" not in (data_dir / "server.log").read_text(), "the web process ran a turn"
            finally:
                stop_atende(second)
        finally:
            stop_atende(web)


def test_a_worker_serves_its_turn_and_llm_metrics_on_its_metrics_port(tmp_path: Path, redis_url: str) -> None:
    with FakeOpenAI(lambda body: ANSWER) as llm:
        env = {
            "ATENDE_REDIS_URL": redis_url,
            "ATENDE_SECRET_KEY": "shared-by-every-process",
            "ATENDE_LLM_PROVIDER": "openai-compatible",
            "ATENDE_LLM_BASE_URL": llm.base_url,
            "ATENDE_LLM_MODEL": "local-model",
        }
        data_dir = tmp_path / "data"
        data_dir.mkdir()
        web, url = start_atende(data_dir, "demo", env=env)
        port = free_port()
        try:
            worker = start_worker(data_dir, env, "worker.log", "--metrics-port", str(port))
            try:
                session = ChatCustomer.start(url)
                _post(session, QUESTION)
                _wait(lambda: len(session.messages()) == 2, "the worker's reply")

                scraped = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
                assert scraped.status_code == 200
                assert metric(scraped.text, "atende_turns_total", outcome="replied") == 1
                assert metric(scraped.text, "atende_turn_seconds_count", outcome="replied") == 1
                call = {"provider": "openai-compatible", "model": "local-model", "outcome": "ok"}
                assert metric(scraped.text, "atende_llm_call_seconds_count", **call) == 1
                # The web process only enqueued: its own /metrics counts requests, and no turn.
                served = httpx.get(f"{url}/metrics", timeout=10).text
                assert metric(served, "atende_turns_total") is None
                posts = {"method": "POST", "path": "/api/v1/webchat/{tenant_slug}/messages"}
                assert metric(served, "atende_http_requests_total", **posts) == 1
            finally:
                stop_atende(worker)
        finally:
            stop_atende(web)


def _worker(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """``atende worker`` with exactly the Redis URL of ``env`` (or none)."""
    environment = {k: v for k, v in os.environ.items() if k != "ATENDE_REDIS_URL"} | env
    return subprocess.run(
        [ATENDE, "worker", *args], env=environment, capture_output=True, text=True, timeout=120, check=False
    )


def test_a_concurrency_that_is_not_a_positive_number_is_a_clear_error(redis_url: str) -> None:
    for bad in ("0", "-3", "many"):
        done = _worker({"ATENDE_REDIS_URL": redis_url}, "--concurrency", bad)
        assert done.returncode == 2
        assert "--concurrency" in done.stderr and bad in done.stderr


def test_a_metrics_port_that_cannot_be_served_is_a_clear_error(redis_url: str) -> None:
    for bad in ("0", "65536", "many"):
        done = _worker({"ATENDE_REDIS_URL": redis_url}, "--metrics-port", bad)
        assert done.returncode == 2
        assert "--metrics-port" in done.stderr and bad in done.stderr
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        done = _worker({"ATENDE_REDIS_URL": redis_url}, "--metrics-port", port)
    assert done.returncode == 2
    assert "--metrics-port" in done.stderr and f"127.0.0.1:{port}" in done.stderr and "in use" in done.stderr
    done = _worker(
        {"ATENDE_REDIS_URL": redis_url}, "--metrics-port", port, "--metrics-address", "no.such.host."
    )
    assert done.returncode == 2 and "--metrics-address" in done.stderr and "no.such.host." in done.stderr


def test_a_redis_that_cannot_be_reached_is_named_and_the_process_exits(tmp_path: Path) -> None:
    unreachable = "redis://:hunter2@127.0.0.1:9/0"
    env = {"ATENDE_REDIS_URL": unreachable, "ATENDE_DATA_DIR": str(tmp_path)}
    done = _worker(env)
    assert done.returncode == 1
    assert "redis://:***@127.0.0.1:9/0" in done.stderr and "cannot be reached" in done.stderr
    assert "hunter2" not in done.stderr
    served = subprocess.run(
        [ATENDE, "serve", "--port", "9"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert served.returncode == 1 and "redis://:***@127.0.0.1:9/0" in served.stderr


def test_a_worker_needs_redis(tmp_path: Path) -> None:
    done = _worker({"ATENDE_DATA_DIR": str(tmp_path)})
    assert done.returncode == 2 and "ATENDE_REDIS_URL" in done.stderr
