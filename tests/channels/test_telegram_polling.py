"""A Telegram bot without a public address: the server long-polls getUpdates and answers."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.conftest import run_cli, start_atende, stop_atende
from tests.fakes.telegram_api import FakeTelegram, text_update
from tests.waiting import stays_true


def test_a_polling_channel_answers_the_updates_it_fetches(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    with FakeTelegram(token="444555666:AAE-polling-test-token") as telegram:
        process, _ = start_atende(data_dir, "demo")
        try:
            added = run_cli(
                data_dir,
                *("channel", "add", "--tenant", "demo", "--type", "telegram", "--polling"),
                *("--token", telegram.token, "--api-base", telegram.base_url, "--json"),
            )
            assert added.returncode == 0, added.stderr
        finally:
            stop_atende(process)

        process, _ = start_atende(data_dir, "demo")  # polling channels start with the server
        try:
            telegram.wait_for("deleteWebhook", 1, timeout=60)
            telegram.enqueue(text_update("Vocês parcelam no cartão de crédito?", update_id=7, chat_id=4242))
            [reply] = telegram.wait_for("sendMessage", 1, timeout=120)
            assert int(reply.params["chat_id"]) == 4242
            assert "10 vezes sem juros" in str(reply.params["text"])
            stays_true(
                lambda: len(telegram.calls("sendMessage")) == 1, "the confirmed update is not fetched again"
            )
        finally:
            stop_atende(process)


def test_a_polling_channel_an_admin_adds_while_the_server_runs_polls_at_once(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    with FakeTelegram(token="444555777:AAE-added-live-token") as telegram:
        process, url = start_atende(data_dir, "demo")
        try:
            credentials = json.loads((data_dir / "demo-credentials.json").read_text())
            login = httpx.post(
                f"{url}/api/v1/auth/login",
                json={"email": "admin@demo.atende.dev", "password": credentials["admin@demo.atende.dev"]},
            )
            headers = {"Authorization": f"Bearer {login.json()['token']}"}
            added = httpx.post(
                f"{url}/api/v1/admin/channels",
                json={
                    "type": "telegram",
                    "mode": "polling",
                    "token": telegram.token,
                    "api_base": telegram.base_url,
                },
                headers=headers,
            )
            assert added.status_code == 201, added.text
            telegram.enqueue(text_update("Vocês parcelam no cartão de crédito?", update_id=9, chat_id=777))
            [reply] = telegram.wait_for("sendMessage", 1, timeout=120)  # no restart in between
            assert int(reply.params["chat_id"]) == 777 and "10 vezes sem juros" in str(reply.params["text"])
        finally:
            stop_atende(process)
