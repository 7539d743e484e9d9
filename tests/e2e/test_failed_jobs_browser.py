"""In Chromium: a customer message whose turn fails on every try is on the admin's failed jobs page, with
its tries and error; once the fault is fixed, its Replay button answers the customer, once."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from playwright.async_api import Browser, expect

from tests.conftest import LiveServer
from tests.helpers import ChatCustomer, refuse_to_answer, stop_refusing
from tests.waiting import QUIET_SECONDS


async def test_admin_replays_a_dead_turn_and_the_customer_is_answered_once(
    browser: Browser, live_server: LiveServer
) -> None:
    session = await ChatCustomer.astart(live_server.url)
    question = f"Quanto tempo de garantia têm as plantas? ({session.session_id[:6]})"
    fault = await refuse_to_answer(live_server.data_dir, question)
    try:
        async with httpx.AsyncClient(base_url=live_server.url, timeout=10) as client:
            sent = await session.asend(question)
            assert sent.status_code == 202
            [customer_message] = await session.amessages()

            page = await (await browser.new_context()).new_page()
            await page.goto(f"{live_server.url}/jobs")
            await page.get_by_label("email").fill(live_server.admin[0])
            await page.get_by_label("password").fill(live_server.admin[1])
            await page.get_by_role("button", name="Log in").click()
            await expect(page.locator("body")).to_have_attribute("data-ready", "1")

            login = await client.post(
                "/api/v1/auth/login", json={"email": live_server.admin[0], "password": live_server.admin[1]}
            )
            headers = {"Authorization": f"Bearer {login.json()['token']}"}
            letter: dict[str, Any] | None = None
            deadline = time.monotonic() + 60
            while letter is None:
                assert time.monotonic() < deadline, "the turn never became a failed job"
                listed = (await client.get("/api/v1/admin/failed-jobs", headers=headers)).json()
                letter = next((j for j in listed if j["ref_id"] == customer_message["id"]), None)
                await asyncio.sleep(0.3)

            row = page.locator(f'tr[data-job-id="{letter["id"]}"]')
            await expect(row.locator(".job-kind")).to_have_text("Customer message (turn)")
            await expect(row.locator(".attempts")).to_have_text("3")
            await expect(row.locator(".last-error")).to_contain_text("refuses this message")
            assert len(await session.amessages()) == 1, "nobody answered while the fault lasts"

            await stop_refusing(live_server.data_dir, fault)
            await row.get_by_role("button", name="Replay").click()
            await expect(page.locator("#replay-status")).to_have_text("1 job replayed.")
            await expect(row).to_have_count(0)

            deadline = time.monotonic() + 60
            while len(await session.amessages()) < 2:
                assert time.monotonic() < deadline, "the replayed turn never answered"
                await asyncio.sleep(0.3)
            quiet_until = time.monotonic() + QUIET_SECONDS
            while time.monotonic() < quiet_until:
                history = await session.amessages()
                assert len(history) == 2, "exactly one answer"
                await asyncio.sleep(0.2)
            assert history[1]["author"] != "customer"
    finally:
        await stop_refusing(live_server.data_dir, fault)
