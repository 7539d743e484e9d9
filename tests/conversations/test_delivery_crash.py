"""A server killed while replies wait to be delivered: the next one delivers every one, once."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import httpx

from tests.conftest import run_cli, start_atende, stop_atende
from tests.fakes.telegram_api import FakeTelegram, TelegramError, text_update
from tests.waiting import stays_true

SECRET = "crash-test-secret"
QUESTIONS = [
    "Vocês parcelam no cartão de crédito?",
    "Qual o prazo para devolver um produto?",
    "Quanto tempo de garantia têm as plantas?",
]


def test_replies_queued_when_the_server_is_killed_are_all_delivered_after_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    chats = [2_000_000_001 + i for i in range(len(QUESTIONS))]
    with FakeTelegram(token="987654321:AAE-crash-test-token") as telegram:
        # Telegram is down: each reply's first try fails, and the next try would be a minute later.
        telegram.script("sendMessage", *[TelegramError.server_error()] * len(QUESTIONS))
        process, url = start_atende(data_dir, "demo", env={"ATENDE_DELIVERY_BACKOFF_SECONDS": "60"})
        try:
            added = run_cli(
                data_dir,
                *("channel", "add", "--tenant", "demo", "--type", "telegram", "--token", telegram.token),
                *("--webhook-secret", SECRET, "--api-base", telegram.base_url, "--json"),
            )
            assert added.returncode == 0, added.stderr
            webhook = f"{url}/webhooks/telegram/{json.loads(added.stdout)['id']}"
            for chat, question in zip(chats, QUESTIONS, strict=True):
                posted = httpx.post(
                    webhook,
                    json=text_update(question, update_id=chat, chat_id=chat),
                    headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
                    timeout=10,
                )
                assert posted.status_code == 200, posted.text
            telegram.wait_for("sendMessage", len(QUESTIONS), timeout=180)
        finally:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()

        process, _ = start_atende(data_dir, "demo", env={"ATENDE_DELIVERY_BACKOFF_SECONDS": "0.1"})
        try:
            telegram.wait_for("sendMessage", 2 * len(QUESTIONS), timeout=120)
            stays_true(
                lambda: len(telegram.calls("sendMessage")) == 2 * len(QUESTIONS), "no duplicate delivery"
            )
            by_chat = {
                chat: [
                    str(c.params["text"])
                    for c in telegram.calls("sendMessage")
                    if int(c.params["chat_id"]) == chat
                ]
                for chat in chats
            }
            for chat, tries in by_chat.items():
                assert len(tries) == 2, f"chat {chat}: the failed try, then one delivery ({tries})"
                assert tries[0] == tries[1]
            assert "10 vezes sem juros" in by_chat[chats[0]][1]
        finally:
            stop_atende(process)
