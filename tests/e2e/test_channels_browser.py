"""In Chromium: an admin adds a Telegram channel; an agent sees a customer's photo and resends a refused reply."""

from __future__ import annotations

import json
import struct
import uuid
import zlib
from collections.abc import Iterator

import httpx
import pytest
from playwright.async_api import Browser, expect

from tests.conftest import LiveServer, run_cli
from tests.e2e.test_admin_browser import open_admin
from tests.fakes.telegram_api import FakeTelegram, TelegramError, photo_update
from tests.helpers import create_admin_tenant

SECRET = "browser-webhook-secret"


def tiny_png(width: int = 4, height: int = 3) -> bytes:
    """A real PNG (solid green), so the browser has an image to decode."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x00\xa0\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram(token="555000111:AAE-browser-test-token") as fake:
        yield fake


async def test_an_admin_adds_a_telegram_channel_and_sees_its_token_masked(
    browser: Browser, live_server: LiveServer
) -> None:
    tenant = await create_admin_tenant(live_server)
    page = await open_admin(browser, live_server, tenant.admin)
    await page.get_by_role("button", name="Channels").click()
    await expect(page.locator("#channel-rows")).to_contain_text("No channels yet.")
    await expect(page.get_by_label("app secret")).to_be_hidden()
    # The inputs are the Telegram settings' fields: secrets as passwords, the API server, the switch.
    await expect(page.get_by_label("token", exact=True)).to_have_attribute("type", "password")
    await expect(page.get_by_label("webhook secret")).to_have_attribute("type", "password")
    await expect(page.get_by_label("api base")).to_be_visible()
    await expect(page.get_by_label("Long polling")).to_be_visible()
    await page.get_by_label("channel type").select_option("whatsapp-cloud")
    await expect(page.get_by_label("verify token")).to_have_attribute("type", "password")
    await expect(page.get_by_label("Long polling")).to_be_hidden()
    await page.get_by_label("channel type").select_option("telegram")

    await page.get_by_role("button", name="Add channel").click()
    await expect(page.locator('[data-error-for="token"]')).to_contain_text(
        "is required for a telegram channel"
    )
    await page.get_by_label("token", exact=True).fill("123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    await page.get_by_role("button", name="Add channel").click()
    row = page.locator('#channel-rows tr[data-type="telegram"]')
    await expect(row).to_contain_text("/webhooks/telegram/")
    await expect(row.locator(".credentials")).to_contain_text("token …WXYZ")
    await expect(row).not_to_contain_text("ABCDEFGHIJKLMNOPQRSTUVWXYZ")

    # Rotating the token: a bad one is refused naming the field; a good one replaces it.
    await row.get_by_role("button", name="Change").click()
    await expect(page.get_by_label("channel type")).to_be_disabled()
    await page.get_by_label("token", exact=True).fill("not a token")
    await page.get_by_role("button", name="Save changes").click()
    await expect(page.locator('[data-error-for="token"]')).to_contain_text("is not a Telegram bot token")
    await expect(row.locator(".credentials")).to_contain_text("token …WXYZ")
    await page.get_by_label("token", exact=True).fill("123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ-NEW1")
    await page.get_by_role("button", name="Save changes").click()
    await expect(row.locator(".credentials")).to_contain_text("token …NEW1")
    await expect(page.locator("#channel-status")).to_contain_text("Saved")
    await expect(page.get_by_role("button", name="Add channel")).to_be_visible()


async def test_an_agent_sees_the_customers_photo_and_resends_a_refused_reply(
    browser: Browser, live_server: LiveServer, telegram: FakeTelegram
) -> None:
    added = run_cli(
        live_server.data_dir,
        *("channel", "add", "--tenant", "demo", "--type", "telegram", "--name", "browser-bot"),
        *("--token", telegram.token, "--webhook-secret", SECRET, "--api-base", telegram.base_url, "--json"),
    )
    assert added.returncode == 0, added.stderr
    channel_id = json.loads(added.stdout)["id"]
    chat_id = 3_000_000_000 + uuid.uuid4().int % 10**6
    name = f"Carla {chat_id}"
    file_id = telegram.add_file(tiny_png(), file_path="photos/file_1.png", file_id=f"photo-{chat_id}")
    update = photo_update(file_id, update_id=chat_id, chat_id=chat_id, first_name=name)
    async with httpx.AsyncClient(timeout=10) as http:
        posted = await http.post(
            f"{live_server.url}/webhooks/telegram/{channel_id}",
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
        )
    assert posted.status_code == 200, posted.text

    page = await (await browser.new_context()).new_page()
    await page.goto(f"{live_server.url}/inbox")
    await page.get_by_label("email").fill(live_server.agent[0])
    await page.get_by_label("password").fill(live_server.agent[1])
    await page.get_by_role("button", name="Log in").click()
    await page.locator("#tickets li", has_text=name).click()
    photo = page.locator('[data-author="customer"] img.attachment-image')
    await expect(photo).to_be_visible()
    await page.wait_for_function("() => document.querySelector('img.attachment-image').naturalWidth === 4")
    await expect(page.locator('[data-author="bot"]').first).to_contain_text("atendente humano")

    await page.get_by_role("button", name="Accept").click()
    telegram.script("sendMessage", TelegramError.blocked())
    await page.get_by_label("reply").fill("Que pena! Vamos trocar a planta.")
    await page.get_by_role("button", name="Send").click()
    refused = page.locator('[data-author="agent"]').last
    await expect(refused.locator(".delivery")).to_contain_text(
        "not delivered: Forbidden: bot was blocked by the user"
    )
    await refused.get_by_role("button", name="Resend").click()
    await expect(refused.locator(".delivery")).to_have_text("sent")
    texts = [c.params["text"] for c in telegram.calls("sendMessage") if int(c.params["chat_id"]) == chat_id]
    assert texts[-1] == "Que pena! Vamos trocar a planta."
