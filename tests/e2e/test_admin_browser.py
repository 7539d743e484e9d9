"""In Chromium: an admin edits the escalation policy (threshold, Saturday hours), sees field errors, sets a provider."""

from __future__ import annotations

from playwright.async_api import Browser, Page, expect

from tests.conftest import LiveServer
from tests.helpers import create_admin_tenant


async def open_admin(browser: Browser, live_server: LiveServer, credentials: tuple[str, str]) -> Page:
    page = await (await browser.new_context()).new_page()
    await page.goto(f"{live_server.url}/admin")
    await page.get_by_label("email").fill(credentials[0])
    await page.get_by_label("password").fill(credentials[1])
    await page.get_by_role("button", name="Log in").click()
    await expect(page.locator("body")).to_have_attribute("data-ready", "1")
    return page


async def test_admin_changes_the_threshold_and_adds_saturday_hours(
    browser: Browser, live_server: LiveServer
) -> None:
    tenant = await create_admin_tenant(live_server)
    page = await open_admin(browser, live_server, tenant.admin)
    await expect(page.locator("#me")).to_contain_text("(admin)")
    await expect(page.get_by_label("Sentiment threshold")).to_have_value("-0.7")
    await expect(page.get_by_label("human_agent", exact=True)).to_be_checked()

    await page.get_by_label("Sentiment threshold").fill("-0.4")
    await page.get_by_label("cancel", exact=True).check()
    await page.get_by_label("Humans answer only during business hours").check()
    await expect(page.get_by_label("Time zone")).to_have_value("America/Sao_Paulo")
    await page.get_by_role("button", name="Add Saturday hours").click()
    await page.get_by_label("Saturday opens").fill("09:00")
    await page.get_by_label("Saturday closes").fill("13:00")
    await page.get_by_role("button", name="Save policy").click()
    await expect(page.locator("#policy-status")).to_have_text("Saved.")

    await page.reload()
    await expect(page.locator("body")).to_have_attribute("data-ready", "1")
    await expect(page.get_by_label("Sentiment threshold")).to_have_value("-0.4")
    await expect(page.get_by_label("cancel", exact=True)).to_be_checked()
    await expect(page.get_by_label("Humans answer only during business hours")).to_be_checked()
    await expect(page.get_by_label("Saturday opens")).to_have_value("09:00")
    await expect(page.get_by_label("Saturday closes")).to_have_value("13:00")
    await expect(page.get_by_label("Sunday opens")).to_have_count(0)
    await expect(page.locator('tr[data-day="sun"]')).to_contain_text("closed")


async def test_a_bad_value_is_shown_next_to_its_field_and_nothing_is_saved(
    browser: Browser, live_server: LiveServer
) -> None:
    tenant = await create_admin_tenant(live_server)
    page = await open_admin(browser, live_server, tenant.admin)
    await page.get_by_label("Humans answer only during business hours").check()
    await page.get_by_label("Time zone").fill("Mars/Olympus_Mons")
    await page.get_by_role("button", name="Save policy").click()
    await expect(page.locator('[data-error-for="business_hours.timezone"]')).to_contain_text(
        "unknown time zone 'Mars/Olympus_Mons'"
    )
    await expect(page.locator("#policy-status")).to_contain_text("Not saved")

    await page.get_by_label("Time zone").fill("America/Sao_Paulo")
    await page.get_by_role("button", name="Add Saturday hours").click()
    await page.get_by_label("Saturday opens").fill("18:00")
    await page.get_by_label("Saturday closes").fill("08:00")
    await page.get_by_role("button", name="Save policy").click()
    saturday = page.locator('tr[data-day="sat"]')
    await expect(saturday.locator(".field-error")).to_have_text("opens 18:00 is not before 08:00")
    await expect(saturday).to_have_class("has-error")
    await expect(page.locator('[data-error-for="business_hours.timezone"]')).to_be_empty()

    await page.get_by_label("Sentiment threshold").fill("5")
    await page.get_by_role("button", name="Remove Saturday hours").click()
    await page.get_by_role("button", name="Save policy").click()
    await expect(page.locator('[data-error-for="sentiment_threshold"]')).to_contain_text("<= 1.0")

    await page.reload()
    await expect(page.locator("body")).to_have_attribute("data-ready", "1")
    await expect(page.get_by_label("Sentiment threshold")).to_have_value("-0.7")
    await expect(page.get_by_label("Humans answer only during business hours")).not_to_be_checked()


async def test_admin_sets_a_provider_and_the_key_stays_hidden(
    browser: Browser, live_server: LiveServer
) -> None:
    tenant = await create_admin_tenant(live_server)
    page = await open_admin(browser, live_server, tenant.admin)
    await page.get_by_role("button", name="LLM provider").click()
    await page.get_by_label("primary provider").select_option("openai-compatible")
    await page.get_by_label("primary model").fill("llama3.1")
    await page.get_by_label("primary API key").fill("sk-local-secret-9876")
    await page.get_by_role("button", name="Save provider").click()
    await expect(page.locator('[data-error-for="primary.base_url"]')).to_contain_text("needs its URL")

    await page.get_by_label("primary base URL").fill("http://127.0.0.1:11434/v1")
    await page.get_by_role("button", name="Save provider").click()
    await expect(page.locator("#llm-status")).to_have_text("Saved.")
    await expect(page.get_by_label("primary API key")).to_have_value("")
    await expect(page.get_by_label("primary API key")).to_have_attribute("placeholder", "stored key …9876")

    await page.reload()
    await expect(page.locator("body")).to_have_attribute("data-ready", "1")
    await page.get_by_role("button", name="LLM provider").click()
    await expect(page.get_by_label("primary model")).to_have_value("llama3.1")
    await expect(page.get_by_label("primary API key")).to_have_attribute("placeholder", "stored key …9876")
    assert "sk-local-secret-9876" not in await page.content()


async def test_an_agent_is_told_the_admin_page_is_for_admins(
    browser: Browser, live_server: LiveServer
) -> None:
    page = await open_admin_as_agent(browser, live_server)
    await expect(page.locator("#denied")).to_contain_text("only admins change the tenant's settings")
    await expect(page.locator("#policy")).to_be_hidden()


async def open_admin_as_agent(browser: Browser, live_server: LiveServer) -> Page:
    page = await (await browser.new_context()).new_page()
    await page.goto(f"{live_server.url}/admin")
    await page.get_by_label("email").fill(live_server.agent[0])
    await page.get_by_label("password").fill(live_server.agent[1])
    await page.get_by_role("button", name="Log in").click()
    return page
