"""In Chromium: logging in with a TOTP code typed from the authenticator app (computed here by pyotp from
the secret the server gave), setting two-factor authentication up on the account page, and an admin
requiring it, after which the login form walks a person through enrolling."""

from __future__ import annotations

import re
import time

import httpx
import pyotp
from playwright.async_api import Browser, Page, expect

from tests.conftest import LiveServer
from tests.helpers import create_admin_tenant


def code_after(totp: pyotp.TOTP, steps: int) -> str:
    """The app's code ``steps`` time-steps from now (the server takes one step of clock drift)."""
    return totp.at(time.time() + steps * totp.interval)


async def enable_two_factor(live_server: LiveServer, credentials: tuple[str, str]) -> pyotp.TOTP:
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as client:
        login = await client.post(
            "/api/v1/auth/login", json={"email": credentials[0], "password": credentials[1]}
        )
        headers = {"Authorization": f"Bearer {login.json()['token']}"}
        setup = await client.post("/api/v1/auth/2fa/setup", headers=headers)
        totp = pyotp.TOTP(setup.json()["secret"])
        confirmed = await client.post("/api/v1/auth/2fa/confirm", json={"code": totp.now()}, headers=headers)
        assert confirmed.status_code == 200, confirmed.text
    return totp


async def fill_password(browser: Browser, url: str, credentials: tuple[str, str]) -> Page:
    page = await (await browser.new_context()).new_page()
    await page.goto(url)
    await page.get_by_label("email").fill(credentials[0])
    await page.get_by_label("password", exact=True).fill(credentials[1])
    await page.get_by_role("button", name="Log in").click()
    return page


async def test_a_person_with_two_factor_types_the_apps_code_and_reaches_the_inbox(
    browser: Browser, live_server: LiveServer
) -> None:
    tenant = await create_admin_tenant(live_server)
    totp = await enable_two_factor(live_server, tenant.agent)
    page = await fill_password(browser, f"{live_server.url}/inbox", tenant.agent)

    code = page.get_by_label("Authentication code")
    await expect(code).to_be_visible()
    await expect(page.locator("#login-code-hint")).to_contain_text("authenticator app")
    await code.fill("000000" if code_after(totp, 1) != "000000" else "111111")
    await page.get_by_role("button", name="Log in").click()
    await expect(page.locator("#login-error")).to_contain_text("wrong or already used code")
    await expect(page.locator("#me")).to_be_hidden()

    await code.fill(code_after(totp, 1))  # setting it up used this step's code
    await page.get_by_role("button", name="Log in").click()
    await expect(page.locator("#me")).to_have_text("agent")
    await expect(page.locator("#login")).to_be_hidden()


async def test_setting_it_up_on_the_account_page_then_an_admin_requires_it_of_everyone(
    browser: Browser, live_server: LiveServer
) -> None:
    tenant = await create_admin_tenant(live_server)
    agent = await fill_password(browser, f"{live_server.url}/account", tenant.agent)
    await expect(agent.locator("body")).to_have_attribute("data-ready", "1")
    await expect(agent.locator("#tf-status")).to_contain_text("Off")
    await expect(agent.locator("#tf-tenant")).to_be_hidden()  # not an admin
    await agent.get_by_role("button", name="Set up two-factor authentication").click()
    await expect(agent.locator("#tf-qr svg")).to_be_visible()
    totp = pyotp.TOTP(await agent.locator("#tf-secret").inner_text())
    await agent.get_by_label("Code from the app", exact=True).fill(totp.now())
    await agent.get_by_role("button", name="Turn on").click()
    await expect(agent.locator("#tf-recovery-codes li")).to_have_count(10)
    await expect(agent.locator("#tf-status")).to_contain_text("On")

    admin = await fill_password(browser, f"{live_server.url}/account", tenant.admin)
    await expect(admin.locator("body")).to_have_attribute("data-ready", "1")
    await admin.get_by_label("Require two-factor authentication of everyone").check()
    await admin.get_by_role("button", name="Save").click()
    await expect(admin.locator("#tf-require-status")).to_have_text("Saved.")

    # The admin has no 2FA yet: their next login sets it up before any page opens.
    again = await fill_password(browser, f"{live_server.url}/admin", tenant.admin)
    hint = again.locator("#login-code-hint")
    await expect(hint).to_contain_text("requires two-factor authentication")
    await expect(again.locator("#login-qr svg")).to_be_visible()
    secret = re.search(r"key ([A-Z2-7]+)\)", await hint.inner_text())
    assert secret is not None
    await again.get_by_label("Authentication code").fill(pyotp.TOTP(secret.group(1)).now())
    await again.get_by_role("button", name="Log in").click()
    await expect(again.locator("#login-recovery li")).to_have_count(10)
    await expect(again.locator("body")).not_to_have_attribute("data-ready", "1")
    await again.get_by_role("button", name="Continue").click()
    await expect(again.locator("body")).to_have_attribute("data-ready", "1")
    await expect(again.locator("#me")).to_contain_text("(admin)")
