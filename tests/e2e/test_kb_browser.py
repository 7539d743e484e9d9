"""In Chromium: a knowledge manager uploads a document, sees it become searchable, and runs a playground search."""

from __future__ import annotations

import uuid
from pathlib import Path

from playwright.async_api import Browser, expect

from tests.conftest import LiveServer


async def test_upload_then_search_in_the_playground(
    browser: Browser, live_server: LiveServer, tmp_path: Path
) -> None:
    marker = uuid.uuid4().hex[:6]
    article = tmp_path / f"regador-{marker}.md"
    article.write_text(
        "# Regador automático\n\nO regador automático Gota Certa rega vasos por até 14 dias sem ninguém em casa.\n"
    )
    bad = tmp_path / "planilha.exe"
    bad.write_bytes(b"MZ")

    page = await (await browser.new_context()).new_page()
    await page.goto(f"{live_server.url}/kb")
    await page.get_by_label("email").fill(live_server.admin[0])
    await page.get_by_label("password").fill(live_server.admin[1])
    await page.get_by_role("button", name="Log in").click()
    await expect(page.locator("#me")).to_contain_text("(admin)")

    await page.locator("#files").set_input_files([str(article), str(bad)])
    await expect(page.locator(f'[data-upload="{bad.name}"]')).to_contain_text(
        "failed: unsupported file type .exe"
    )
    row = page.locator(f'tr[data-source="{article.name}"]')
    await expect(row.locator(".status")).to_have_text("embedded", timeout=30000)

    await row.get_by_role("button", name="Chunks").click()
    await expect(page.locator(".chunk").first).to_contain_text("Gota Certa rega vasos por até 14 dias")

    await page.get_by_role("button", name="Search playground").click()
    await page.get_by_label("query").fill("regador automático para viajar")
    await page.get_by_role("button", name="Search", exact=True).click()
    first = page.locator("#results tr").first
    await expect(first).to_have_attribute("data-document", article.name)
    await expect(first.locator(".dense")).to_contain_text("(1)")
    await expect(first.locator(".lexical")).to_contain_text("(1)")
