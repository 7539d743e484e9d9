"""Two web processes and a worker sharing a real Redis: a message taken by one web process is answered
by the worker, and the hand-off reaches an inbox connected to the other web process."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx
import websockets

from tests.conftest import start_atende, stop_atende
from tests.helpers import ChatCustomer
from tests.runtime.conftest import start_worker


async def _first_event(url: str, contact: str, within: float, ready: asyncio.Event) -> dict[str, object]:
    """The hand-off of this customer's conversation: the ticket event an agent's inbox gets."""
    async with websockets.connect(url) as socket_:
        ready.set()  # the server subscribes before it accepts the socket
        deadline = time.monotonic() + within
        while True:
            event: dict[str, object] = json.loads(
                await asyncio.wait_for(socket_.recv(), deadline - time.monotonic())
            )
            ticket = event.get("ticket") or {}
            if (
                event.get("type") == "ticket.created"
                and isinstance(ticket, dict)
                and ticket.get("contact") == contact
            ):
                return event


def test_an_inbox_on_one_process_sees_a_message_taken_by_the_other_and_answered_by_a_worker(
    tmp_path: Path, redis_url: str
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    env = {"ATENDE_REDIS_URL": redis_url, "ATENDE_SECRET_KEY": "shared-by-both-processes"}
    first, first_url = start_atende(data_dir, "demo", env=env, log_name="first.log")
    try:
        second, second_url = start_atende(data_dir, "serve", env=env, log_name="second.log")
        worker = start_worker(data_dir, env, "worker.log")
        try:
            credentials = json.loads((data_dir / "demo-credentials.json").read_text())
            login = httpx.post(
                f"{second_url}/api/v1/auth/login",
                json={"email": "agent@demo.atende.dev", "password": credentials["agent@demo.atende.dev"]},
                timeout=10,
            )
            token = login.json()["token"]
            events_url = f"ws://{second_url.removeprefix('http://')}/api/v1/inbox/events?token={token}"
            session = ChatCustomer.start(first_url)

            async def scenario() -> dict[str, object]:
                ready = asyncio.Event()
                listening = asyncio.create_task(_first_event(events_url, session.name, 60, ready))
                await ready.wait()
                posted = await session.asend("quero falar com um atendente")
                assert posted.status_code == 202
                return await listening

            event = asyncio.run(scenario())
            assert event["ticket"]["status"] == "pending"  # type: ignore[index]
            assert "turn.done" in (data_dir / "worker.log").read_text()
            for web in ("first.log", "second.log"):
                assert "turn.done" not in (data_dir / web).read_text(), f"{web}: a web process ran a turn"
        finally:
            stop_atende(worker)
            stop_atende(second)
    finally:
        stop_atende(first)
