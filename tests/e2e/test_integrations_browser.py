"""In Chromium: an admin makes an API key (shown once) and revokes it, subscribes a webhook, sees it fail."""

from __future__ import annotations

import re

import httpx
from playwright.async_api import Browser, Page, expect

from tests.conftest import LiveServer
from tests.helpers import ChatCustomer, create_admin_tenant
from tests.integrations.test_outbound_webhooks import Subscriber


async def open_integrations(browser: Browser, live_server: LiveServer, credentials: tuple[str, str]) -> Page:
    page = await (await browser.new_context()).new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    await page.goto(f"{live_server.url}/integrations")
    await page.get_by_label("email").fill(credentials[0])
    await page.get_by_label("password").fill(credentials[1])
    await page.get_by_role("button", name="Log in").click()
    await expect(page.locator("body")).to_have_attribute("data-ready", "1")
    return page


async def test_admin_makes_a_key_sees_it_once_and_revokes_it(
    browser: Browser, live_server: LiveServer
) -> None:
    tenant = await create_admin_tenant(live_server)
    page = await open_integrations(browser, live_server, tenant.admin)
    await expect(page.locator("#no-keys")).to_be_visible()

    await page.get_by_label("Key name").fill("CRM sync")
    await page.get_by_role("button", name="Create key").click()
    await expect(page.locator("#new-key")).to_be_visible()
    await expect(page.locator("#new-key")).to_contain_text("will not be shown again")
    await expect(page.locator("#new-key-value")).to_have_text(re.compile(r"^atd_\S{40,}$"))
    key = await page.locator("#new-key-value").text_content()
    assert key and key.startswith("atd_")
    row = page.locator("#key-rows tr", has_text="CRM sync")
    await expect(row.locator(".key-status")).to_have_text("active")
    await expect(row).to_contain_text(key[:12] + "…")

    async with httpx.AsyncClient(base_url=live_server.url) as client:
        headers = {"Authorization": f"Bearer {key}"}
        assert (await client.get("/api/v1/public/contacts", headers=headers)).status_code == 200
        await page.get_by_role("button", name="I stored it").first.click()
        await page.reload()
        await expect(page.locator("body")).to_have_attribute("data-ready", "1")
        assert key not in await page.content(), "the key is shown only once"
        await expect(row.locator(".last-used")).not_to_have_text("never")

        await page.get_by_role("button", name="Revoke CRM sync").click()
        await expect(row.locator(".key-status")).to_contain_text("revoked")
        await expect(page.get_by_role("button", name="Revoke CRM sync")).to_have_count(0)
        assert (await client.get("/api/v1/public/contacts", headers=headers)).status_code == 401


async def test_admin_adds_a_webhook_and_sees_its_failed_delivery(
    browser: Browser, live_server: LiveServer
) -> None:
    tenant = await create_admin_tenant(live_server)
    page = await open_integrations(browser, live_server, tenant.admin)
    with Subscriber(always_fail=True) as subscriber:
        await page.get_by_label("Webhook URL").fill("not a url")
        await page.get_by_role("button", name="Add webhook").click()
        await expect(page.locator('[data-error-for="url"]')).to_contain_text("http:// or https://")

        await page.get_by_label("Webhook URL").fill(subscriber.url)
        for event in ("message.updated", "ticket.created", "ticket.updated"):
            await page.get_by_label(event, exact=True).uncheck()
        await page.get_by_role("button", name="Add webhook").click()
        await expect(page.locator("#webhook-status")).to_have_text("Added.")
        await expect(page.locator("#new-secret-value")).to_have_text(re.compile(r"^whsec_\S{40,}$"))
        secret = await page.locator("#new-secret-value").text_content()
        assert secret and secret.startswith("whsec_")
        card = page.locator(".webhook", has_text=subscriber.url)
        await expect(card).to_contain_text("message.created")
        await expect(card).to_contain_text(f"secret …{secret[-4:]}")
        await expect(card).to_contain_text("Nothing sent yet.")

        sent = await (await ChatCustomer.astart(live_server.url, tenant.slug)).asend("Oi")
        assert sent.status_code == 202

        failed = card.locator("tr.delivery-failed").first
        await expect(failed).to_be_visible(timeout=30_000)
        await expect(failed.locator(".delivery-status")).to_have_text("failed")
        await expect(failed.locator(".attempts")).to_have_text("4")
        await expect(failed.locator(".last-error")).to_contain_text("HTTP 500")
        await expect(card.locator(".webhook-counts")).to_contain_text("failed")
        assert subscriber.received, "the subscriber was called"
