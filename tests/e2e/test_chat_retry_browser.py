"""In Debian's Chromium: a customer's message that fails on the way is sent again, and arrives once.

The network fails the chat page's post twice: the first try never reaches the server, the second
reaches it but its answer is lost on the way back (Playwright's ``page.route`` aborts the request, as
a dropped connection would). The page tries again with the same message id, shows that it is
retrying, and the customer sees one copy of their message and one answer.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from playwright.async_api import Browser, Route, expect

from tests.conftest import LiveServer
from tests.helpers import ChatCustomer
from tests.waiting import stays_true

QUESTION = "Vocês parcelam no cartão de crédito?"
LIVE = 30_000
"""ms to wait for the bot's answer (a turn runs the classifier first)."""


async def test_a_post_lost_on_the_way_is_retried_with_its_id_and_shown_and_answered_once(
    browser: Browser, live_server: LiveServer
) -> None:
    attempts: list[dict[str, Any]] = []

    async def flaky_network(route: Route) -> None:
        attempts.append(json.loads(route.request.post_data or "{}"))
        if len(attempts) == 1:
            await route.abort("internetdisconnected")  # never reached the server
        elif len(attempts) == 2:
            await route.fetch()  # the server stores it…
            await route.abort("connectionreset")  # …and its answer is lost
        else:
            await route.continue_()

    page = await (await browser.new_context()).new_page()
    await page.route("**/api/v1/webchat/demo/messages", flaky_network)
    await page.goto(f"{live_server.url}/chat/demo")
    await expect(page.locator("body")).to_have_attribute("data-live", "1")

    await page.locator("#text").fill(QUESTION)
    await page.locator("#composer [type=submit]").click()
    mine = page.locator('#messages [data-author="customer"]')
    await expect(mine.locator('[data-sending="retrying"]')).to_be_visible()

    answer = page.locator('#messages [data-author="bot"]:not(.draft)')
    await expect(answer).to_have_count(1, timeout=LIVE)
    await expect(answer).to_contain_text("10 vezes sem juros")
    await expect(mine).to_have_count(1)
    await expect(mine.locator(".text")).to_have_text(QUESTION)
    await expect(mine.locator("[data-sending]")).to_have_count(0, timeout=LIVE)  # sent: no state left

    assert len(attempts) == 3
    assert len({a["message_id"] for a in attempts}) == 1, "every try carries the same message id"
    chat = await ChatCustomer.of_page(live_server.url, "demo", page)

    def authors() -> list[str]:
        return [m["author"] for m in chat.messages()]

    await asyncio.to_thread(stays_true, lambda: authors() == ["customer", "bot"], "stored and answered once")
    await expect(mine).to_have_count(1)
    await expect(answer).to_have_count(1)
