"""In Debian's Chromium: the customer's chat page greets them before they write.

Who answers (the company), what it can answer (a few titles of its knowledge documents, as they are
written: tenant input is shown, never run), that a person can answer too, in the customer's language.
The greeting is not a message: the conversation holds only what was said.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from playwright.async_api import Browser, Page, expect

from core.accounts import create_tenant
from core.database import open_database
from core.settings import Settings
from tests.conftest import LiveServer, run_cli
from tests.helpers import ChatCustomer

COMPANY = "Jardim <Nuvem> & Cia"
ARTICLES = {
    "cupons.md": "# Cupons <b>de</b> desconto\n\nVocê pode usar um cupom de desconto por pedido, no carrinho.\n",
    "entregas.md": "# Entregas\n\nEntregamos em todo o Brasil em até 10 dias úteis depois do pagamento.\n",
    "pagamento.md": "# Formas de pagamento\n\nAceitamos Pix, boleto e cartão de crédito em até 10 vezes sem juros.\n",
    "garantia.md": "# Garantia\n\nToda planta tem garantia de 15 dias a partir da entrega na sua casa.\n",
    "rastreamento.md": "# Rastreamento\n\nVocê recebe o código de rastreamento por e-mail quando o pedido sai.\n",
    "trocas.md": "# Trocas e devoluções\n\nVocê pode devolver qualquer produto em até 7 dias depois de receber.\n",
}
SHOWN = ["Cupons <b>de</b> desconto", "Entregas", "Formas de pagamento", "Garantia", "Rastreamento"]
"""Five of the six, by title: the greeting stays short."""
LIVE = 20_000
"""ms to wait for the bot's answer (a turn runs the classifier first)."""


async def _tenant(server: LiveServer, articles: Path | None = None) -> str:
    slug = f"gr-{uuid.uuid4().hex[:10]}"
    async with (
        open_database(Settings(data_dir=server.data_dir)) as database,
        database.sessionmaker.begin() as session,
    ):
        await create_tenant(session, slug, COMPANY)
    if articles:
        ingested = await asyncio.to_thread(
            run_cli, server.data_dir, "kb", "ingest", str(articles), "--tenant", slug
        )
        assert ingested.returncode == 0, ingested.stderr
    return slug


async def _customer(browser: Browser, server: LiveServer, path: str, locale: str) -> Page:
    """A customer whose browser speaks ``locale`` on the chat page, its script running."""
    page = await (await browser.new_context(locale=locale)).new_page()
    await page.goto(f"{server.url}{path}")
    await expect(page.locator("body")).to_have_attribute("data-live", "1")
    return page


async def _stored(server: LiveServer, slug: str, page: Page) -> list[tuple[str, str]]:
    chat = await ChatCustomer.of_page(server.url, slug, page)
    return [(m["author"], m["text"]) for m in await chat.amessages()]


async def test_the_chat_greets_with_the_company_and_what_its_bot_can_answer_before_anything_is_typed(
    browser: Browser, live_server: LiveServer, tmp_path: Path
) -> None:
    for name, text in ARTICLES.items():
        (tmp_path / name).write_text(text)
    slug = await _tenant(live_server, tmp_path)
    customer = await _customer(browser, live_server, f"/chat/{slug}", "pt-BR")

    greeting = customer.locator("#greeting")
    await expect(greeting).to_contain_text(f"Olá! Sou o assistente virtual de {COMPANY}.")
    await expect(greeting).to_contain_text("Posso responder sobre:")
    await expect(greeting.locator(".topic")).to_have_text(SHOWN)
    await expect(greeting).to_contain_text("e outros assuntos")
    await expect(greeting).not_to_contain_text("Trocas e devoluções")
    await expect(greeting).to_contain_text("Se preferir falar com um atendente, é só pedir.")
    # The company's name and the titles are text, not markup.
    await expect(customer.locator(".chat header")).to_contain_text(COMPANY)
    await expect(greeting.locator("b")).to_have_count(0)
    # Nothing said yet, nothing stored.
    await expect(customer.locator("#messages [data-author]")).to_have_count(0)
    assert await _stored(live_server, slug, customer) == []

    # A topic asks about itself; the bot answers from that document, under the greeting.
    await greeting.get_by_role("button", name="Formas de pagamento").click()
    await expect(customer.locator('#messages [data-author="customer"]')).to_have_text("Formas de pagamento")
    answer = customer.locator('#messages [data-author="bot"]:not(.draft)')
    await expect(answer).to_have_count(1, timeout=LIVE)
    await expect(answer.locator(".citation").first).to_have_attribute("data-document", "pagamento.md")
    await expect(customer.locator("#messages > :first-child")).to_have_id("greeting")
    stored = await _stored(live_server, slug, customer)
    assert stored[0] == ("customer", "Formas de pagamento")
    assert [author for author, _ in stored] == ["customer", "bot"]


async def test_the_greeting_speaks_the_customers_language_and_offers_a_person_without_a_knowledge_base(
    browser: Browser, live_server: LiveServer
) -> None:
    slug = await _tenant(live_server)

    english = await _customer(browser, live_server, f"/chat/{slug}", "en-US")
    greeting = english.locator("#greeting")
    await expect(greeting).to_contain_text(f"Hi! I'm the virtual assistant of {COMPANY}. How can I help?")
    await expect(greeting).to_contain_text("If you'd rather talk to a person, just ask.")
    await expect(greeting.locator(".topic")).to_have_count(0)

    spanish = await _customer(browser, live_server, f"/chat/{slug}?lang=es", "en-US")
    greeting = spanish.locator("#greeting")
    await expect(greeting).to_contain_text(f"¡Hola! Soy el asistente virtual de {COMPANY}.")
    await expect(greeting).to_contain_text("Si prefieres hablar con un agente, solo pídelo.")
