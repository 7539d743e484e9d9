"""In Debian's Chromium: the inbox keeps an agent signed in across expired access tokens (renewed with
the refresh token, without a reload), its Log out button ends the session on the server, and a session
ended elsewhere takes the page back to the login form."""

from __future__ import annotations

import base64
import json

import httpx
from playwright.async_api import Browser, Page, expect

from tests.conftest import LiveServer
from tests.helpers import AdminTenant, create_admin_tenant


async def _log_in(page: Page, server: LiveServer, person: tuple[str, str]) -> None:
    await page.goto(f"{server.url}/inbox")
    await page.get_by_label("email").fill(person[0])
    await page.get_by_label("password").fill(person[1])
    await page.get_by_role("button", name="Log in").click()
    await expect(page.locator("#me")).to_have_text("agent")
    await expect(page.locator("body")).to_have_attribute("data-live", "1")


def _unsigned_token(expires: int) -> str:
    """A JWT the server did not sign, that says it expires at ``expires``: a token it will refuse."""

    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part({'sub': 'x', 'exp': expires})}.c2ln"


async def _stored(page: Page, key: str) -> str | None:
    value = await page.evaluate(f"localStorage.getItem('atende:{key}')")
    return str(value) if value is not None else None


async def _tenant(server: LiveServer) -> AdminTenant:
    return await create_admin_tenant(server)


async def test_an_expired_or_refused_token_is_renewed_and_the_inbox_stays_live(
    browser: Browser, live_server: LiveServer
) -> None:
    tenant = await _tenant(live_server)
    page = await (await browser.new_context()).new_page()
    await _log_in(page, live_server, tenant.agent)
    first_refresh = await _stored(page, "refresh")

    # Run out: the page renews before its requests and its socket, and carries on where it was.
    await page.evaluate(f"localStorage.setItem('atende:token', '{_unsigned_token(1)}')")
    await page.reload()
    await expect(page.locator("#me")).to_have_text("agent")
    await expect(page.locator("body")).to_have_attribute("data-live", "1")
    renewed_refresh = await _stored(page, "refresh")
    assert renewed_refresh not in (None, first_refresh)

    # Refused by the server although it looks fresh (401, and 4401 on the socket): renewed once, retried.
    await page.evaluate(f"localStorage.setItem('atende:token', '{_unsigned_token(4102444800)}')")
    await page.reload()
    await expect(page.locator("#me")).to_have_text("agent")
    await expect(page.locator("body")).to_have_attribute("data-live", "1")
    await expect(page.locator("#login")).to_be_hidden()
    assert await _stored(page, "refresh") not in (None, renewed_refresh)
    token = await _stored(page, "token")
    async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as client:
        assert (
            await client.get("/api/v1/tickets", headers={"Authorization": f"Bearer {token}"})
        ).status_code == 200


async def test_log_out_ends_the_session_on_the_server(browser: Browser, live_server: LiveServer) -> None:
    tenant = await _tenant(live_server)
    page = await (await browser.new_context()).new_page()
    await _log_in(page, live_server, tenant.agent)
    refresh_token = await _stored(page, "refresh")

    await page.get_by_role("button", name="Log out").click()
    await expect(page.locator("#login")).to_be_visible()
    assert await _stored(page, "token") is None
    async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as client:
        refused = await client.post("/api/v1/auth/refresh", json={"refresh_token": refresh_token})
    assert refused.status_code == 401


async def test_a_session_ended_elsewhere_takes_the_open_inbox_to_the_login_form(
    browser: Browser, live_server: LiveServer
) -> None:
    tenant = await _tenant(live_server)
    page = await (await browser.new_context()).new_page()
    await _log_in(page, live_server, tenant.agent)
    token = await _stored(page, "token")

    async with httpx.AsyncClient(
        base_url=live_server.url, timeout=60
    ) as client:  # the agent logs out on another device
        ended = await client.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"})
    assert ended.status_code == 204
    await expect(page.locator("#login")).to_be_visible()
    await expect(page.locator("#inbox")).to_be_hidden()
