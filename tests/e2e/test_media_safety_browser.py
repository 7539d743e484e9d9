"""In Debian's Chromium: a customer's SVG whose script would steal the agent's login is only ever saved
as a download from the inbox, never rendered on Atende's origin."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from playwright.async_api import Browser, Download, expect

from tests.conftest import LiveServer
from tests.fakes.graph_api import FakeGraphAPI
from tests.helpers import login
from tests.media_files import (
    FileSender,
    Receiver,
    add_whatsapp_channel,
    keep_as_before,
    message_with_file,
    stealing_svg,
)
from tests.waiting import stays_true


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as server:
        yield server


async def test_a_customers_svg_with_a_script_downloads_and_never_reaches_the_agents_token(
    browser: Browser, live_server: LiveServer, receiver: Receiver
) -> None:
    svg = stealing_svg(receiver.origin)

    def deliver() -> tuple[str, str]:
        """Through the WhatsApp webhook into a ticket, the file then kept as Atende kept SVGs before
        (today a new one is refused: tests/web/test_security_headers.py)."""
        with (
            FakeGraphAPI(access_token="EAAG-svg-theft") as graph,
            httpx.Client(base_url=live_server.url) as client,
        ):
            sender = FileSender(client, graph, add_whatsapp_channel(live_server, graph))
            agent = login(client, live_server.agent)
            ticket_id = sender.asks_for_a_human(agent)
            media_id = sender.sends_document(svg, "image/svg+xml", "comprovante.svg")
            message = message_with_file(client, agent, ticket_id, media_id)
            asyncio.run(keep_as_before(live_server.data_dir, message["id"], svg, ".svg"))
            return sender.name, str(message["id"])

    contact, message_id = await asyncio.to_thread(deliver)

    context = await browser.new_context(accept_downloads=True)
    page = await context.new_page()
    await page.goto(f"{live_server.url}/inbox")
    await page.get_by_label("email").fill(live_server.agent[0])
    await page.get_by_label("password").fill(live_server.agent[1])
    await page.get_by_role("button", name="Log in").click()
    await expect(page.locator("#me")).to_have_text("Beto Agente")
    token = await page.evaluate("localStorage.getItem('atende:token')")
    assert token

    await page.locator("#tickets li", has_text=contact).click()
    link = page.locator(f'[data-message-id="{message_id}"] a.attachment')
    await expect(link).to_have_text("📎 document: comprovante.svg")
    downloaded: asyncio.Future[Download] = asyncio.get_running_loop().create_future()

    def saved(download: Download) -> None:
        downloaded.set_result(download)

    page.once("download", saved)
    await link.click()
    await asyncio.to_thread(stays_true, lambda: not receiver.heard(), "the receiver heard nothing")

    download = await asyncio.wait_for(downloaded, timeout=30)
    assert download.suggested_filename == "comprovante.svg"
    assert (await download.path()).read_bytes() == svg, "the file itself, saved, not rendered"
    assert context.pages == [page], "no page opened for the file"
    assert not any(token in path for path in receiver.heard())
    await context.close()
