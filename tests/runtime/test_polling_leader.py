"""Two web processes on one Redis: one of them long-polls a Telegram bot (Telegram would cut two
pollers short with a 409), and when it stops the other takes over and answers the customer once."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.conftest import start_atende, stop_atende
from tests.fakes.telegram_api import FakeTelegram, text_update
from tests.runtime.conftest import start_worker
from tests.waiting import stays_true

LEASE_SECONDS = 3


def _wait(condition: Callable[[], object], what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def _add_polling_channel(url: str, data_dir: Path, telegram: FakeTelegram) -> None:
    credentials = json.loads((data_dir / "demo-credentials.json").read_text())
    login = httpx.post(
        f"{url}/api/v1/auth/login",
        json={"email": "admin@demo.atende.dev", "password": credentials["admin@demo.atende.dev"]},
    )
    added = httpx.post(
        f"{url}/api/v1/admin/channels",
        json={"type": "telegram", "mode": "polling", "token": telegram.token, "api_base": telegram.base_url},
        headers={"Authorization": f"Bearer {login.json()['token']}"},
    )
    assert added.status_code == 201, added.text


def test_one_process_polls_a_bot_and_another_takes_over_when_it_stops(tmp_path: Path, redis_url: str) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    env = {"ATENDE_REDIS_URL": redis_url, "ATENDE_LEADER_LEASE_SECONDS": str(LEASE_SECONDS)}
    first_log, second_log = data_dir / "first.log", data_dir / "second.log"
    with FakeTelegram(token="444555888:AAE-leader-test-token") as telegram:
        first, url = start_atende(data_dir, "demo", env=env, log_name=first_log.name)
        worker = start_worker(data_dir, env, "worker.log")
        second = None
        try:
            _add_polling_channel(url, data_dir, telegram)
            _wait(lambda: "telegram.polling" in first_log.read_text(), "the first process to poll")
            second, _ = start_atende(data_dir, "serve", env=env, log_name=second_log.name)
            # Both take part for the bot; over two leases, only the first polls, and no getUpdates of
            # one process cuts the other's short.
            telegram.wait_for("getUpdates", 1)
            stays_true(
                lambda: telegram.poll_conflicts == 0 and "telegram.polling" not in second_log.read_text(),
                "one process polls the bot",
                seconds=2 * LEASE_SECONDS,
            )

            stop_atende(first)
            _wait(lambda: "telegram.polling" in second_log.read_text(), "the second process to take over")
            telegram.enqueue(text_update("Vocês parcelam no cartão de crédito?", update_id=11, chat_id=5151))
            [reply] = telegram.wait_for("sendMessage", 1, timeout=120)
            assert int(reply.params["chat_id"]) == 5151
            assert "10 vezes sem juros" in str(reply.params["text"])
            stays_true(lambda: len(telegram.calls("sendMessage")) == 1, "the customer is answered once")
        finally:
            for process in (first, second, worker):
                if process is not None:
                    stop_atende(process)
