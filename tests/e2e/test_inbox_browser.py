"""In Debian's Chromium: a customer on the chat page, an agent in the inbox, both live."""

from __future__ import annotations

import uuid

from playwright.async_api import Browser, Page, expect

from tests.conftest import LiveServer
from tests.helpers import ChatCustomer


async def _log_in(page: Page, server: LiveServer) -> None:
    await page.goto(f"{server.url}/inbox")
    await page.get_by_label("email").fill(server.agent[0])
    await page.get_by_label("password").fill(server.agent[1])
    await page.get_by_role("button", name="Log in").click()
    await expect(page.locator("#me")).to_have_text("Beto Agente")


async def test_agent_takes_over_in_the_inbox_and_sees_new_messages_live(
    browser: Browser, live_server: LiveServer
) -> None:
    customer = await (await browser.new_context()).new_page()
    await customer.goto(f"{live_server.url}/chat/demo")
    await customer.get_by_label("message").fill("Vocês parcelam no cartão?")
    await customer.get_by_role("button", name="Enviar").click()
    answer = customer.locator('[data-author="bot"]').first
    await expect(answer).to_contain_text("10 vezes sem juros")
    await expect(answer.locator(".citation")).to_have_attribute("data-document", "formas-de-pagamento.md")

    await customer.get_by_label("message").fill("quero falar com um atendente")
    await customer.get_by_role("button", name="Enviar").click()
    await expect(customer.locator('[data-author="bot"]').nth(1)).to_contain_text("atendente humano")
    chat = await ChatCustomer.of_page(live_server.url, "demo", customer)

    agent = await (await browser.new_context()).new_page()
    await _log_in(agent, live_server)
    ticket = agent.locator("#tickets li", has_text=chat.name)
    await expect(ticket).to_be_visible()
    await ticket.click()
    await expect(
        agent.locator("#messages .decision", has_text="customer_asked_for_human").first
    ).to_be_visible()
    await expect(agent.locator("#messages")).to_contain_text("10 vezes sem juros")  # the bot's earlier turn
    await agent.get_by_role("button", name="Accept").click()
    await expect(agent.locator("#ticket-reason")).to_contain_text("open")

    # The customer writes again: it reaches the open inbox without a reload.
    marker = f"Meu pedido chegou quebrado ({uuid.uuid4().hex[:6]})"
    await customer.get_by_label("message").fill(marker)
    await customer.get_by_role("button", name="Enviar").click()
    await expect(agent.locator('#messages [data-author="customer"]').last).to_have_text(marker)

    # The agent answers from the inbox; the customer's page shows it live.
    await agent.get_by_label("reply").fill("Sinto muito! Vou trocar o produto para você.")
    await agent.get_by_role("button", name="Send").click()
    await expect(customer.locator('[data-author="agent"]')).to_have_text(
        "Sinto muito! Vou trocar o produto para você."
    )

    history = await chat.amessages()
    assert [m["author"] for m in history] == ["customer", "bot", "customer", "bot", "customer", "agent"]


async def test_a_new_escalation_appears_in_the_pending_list_without_reload(
    browser: Browser, live_server: LiveServer
) -> None:
    agent = await (await browser.new_context()).new_page()
    await _log_in(agent, live_server)
    chat = await ChatCustomer.astart(live_server.url)
    assert (await chat.asend("I want to speak to a person")).status_code == 202
    await expect(agent.locator("#tickets li", has_text=chat.name)).to_be_visible(timeout=15000)
