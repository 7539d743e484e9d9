"""In Debian's Chromium: the inbox in Portuguese, worked by keyboard, with unread counts, typing
indicators both ways and the contact panel."""

from __future__ import annotations

from playwright.async_api import Browser, Page, expect

from tests.conftest import LiveServer
from tests.helpers import ChatCustomer


async def _escalate(customer: ChatCustomer) -> None:
    assert (await customer.asend("quero falar com um atendente")).status_code == 202


async def _log_in_in_portuguese(page: Page, server: LiveServer) -> None:
    await page.goto(f"{server.url}/inbox?lang=pt")
    await page.locator("#email").fill(server.agent[0])
    await page.locator("#password").fill(server.agent[1])
    await page.get_by_role("button", name="Entrar").click()
    await expect(page.locator("#me")).to_have_text("Beto Agente")


async def test_an_agent_works_the_inbox_in_portuguese_by_keyboard_and_sees_unread_counts(
    browser: Browser, live_server: LiveServer
) -> None:
    first, second = [await ChatCustomer.astart(live_server.url) for _ in range(2)]
    agent = await (await browser.new_context()).new_page()
    await _log_in_in_portuguese(agent, live_server)
    await expect(agent.get_by_role("button", name="Pendentes")).to_be_visible()
    await _escalate(first)
    await _escalate(second)
    newest = agent.locator("#tickets li", has_text=second.name)
    await expect(newest.locator(".unread")).to_have_text("1")
    await expect(agent.locator("#unread-pending")).not_to_have_text("")
    assert (await agent.title()).startswith("(")

    await agent.locator("body").press("j")  # the first ticket of the list: the newest
    await expect(agent.locator("#ticket-title")).to_contain_text(second.name)
    await expect(newest.locator(".unread")).to_have_count(0)
    await expect(agent.locator("#ticket-reason")).to_have_text(
        "pendente · transferido porque o cliente pediu para falar com uma pessoa"
    )
    await agent.locator("body").press("j")
    await expect(agent.locator("#ticket-title")).to_contain_text(first.name)
    await agent.locator("body").press("k")
    await expect(agent.locator("#ticket-title")).to_contain_text(second.name)

    # The customer of the other ticket (read when it was opened) writes: its count goes up live.
    assert (await first.asend("oi? alguém?")).status_code == 202
    await expect(agent.locator("#tickets li", has_text=first.name).locator(".unread")).to_have_text("1")

    await agent.locator("body").press("n")  # an internal note
    await expect(agent.locator("#reply-note")).to_be_checked()
    await expect(agent.locator("#reply-text")).to_be_focused()
    await agent.keyboard.type("cliente VIP, cuidado")
    await agent.keyboard.press("Enter")
    await expect(agent.locator('[data-history="note"]')).to_contain_text("Nota de Beto Agente: cliente VIP")
    await agent.keyboard.press("Escape")
    await agent.locator("body").press("a")  # accept
    await expect(agent.locator("#ticket-reason")).to_contain_text("aberto")
    await agent.locator("body").press("?")
    await expect(agent.locator("#shortcuts")).to_be_visible()
    await expect(agent.locator("#shortcuts")).to_contain_text("próximo ticket")


async def test_typing_shows_both_ways_and_the_contact_panel_saves_the_profile(
    browser: Browser, live_server: LiveServer
) -> None:
    customer = await (await browser.new_context()).new_page()
    await customer.goto(f"{live_server.url}/chat/demo")
    await customer.get_by_label("message").fill("quero falar com um atendente")
    await customer.get_by_role("button", name="Enviar").click()
    await expect(customer.locator('[data-author="bot"]').first).to_contain_text("atendente humano")
    session = await ChatCustomer.of_page(live_server.url, "demo", customer)

    agent = await (await browser.new_context()).new_page()
    await _log_in_in_portuguese(agent, live_server)
    await agent.locator("#tickets li", has_text=session.name).click()
    await expect(agent.locator("#ticket-title")).to_contain_text(session.name)

    # Pages say "typing" at most every 2 s: typing for 3 s is sure to say it once the ticket is open.
    await customer.get_by_label("message").press_sequentially("meu pedido chegou quebrado", delay=120)
    await expect(agent.locator("#typing")).to_have_text("O cliente está digitando…")
    await agent.get_by_label("reply").press_sequentially("Oi, já vou ver o seu pedido", delay=120)
    await expect(customer.locator("#typing")).to_have_text("digitando…")

    panel = agent.locator("#contact-panel")
    await expect(panel.locator("#contact-channels")).to_contain_text(f"webchat · {session.session_id}")
    await expect(panel.locator("#past-tickets li")).to_have_count(1)
    await agent.get_by_label("contact name").fill("Carla Dias")
    await agent.get_by_label("contact e-mail").fill("carla@")
    await agent.get_by_role("button", name="Salvar").click()
    await expect(agent.locator("#contact-error")).to_contain_text("email")
    await agent.get_by_label("contact e-mail").fill("carla@example.com")
    await agent.get_by_role("button", name="Adicionar campo").click()
    await agent.get_by_label("field name").fill("plano")
    await agent.get_by_label("field value").fill("Premium")
    await agent.get_by_role("button", name="Salvar").click()
    await expect(agent.locator("#contact-error")).to_have_text("Salvo")
    await expect(agent.locator("#tickets li", has_text="Carla Dias")).to_be_visible()
    # "Salvo" stays for the agent to read, not a flash wiped by the panel's re-render.
    assert await agent.locator("#contact-error").text_content() == "Salvo"
    await expect(agent.get_by_label("field value")).to_have_value("Premium")
    await agent.reload()
    await agent.locator("#tickets li", has_text="Carla Dias").click()
    await expect(agent.get_by_label("field value")).to_have_value("Premium")
    await expect(agent.get_by_label("contact e-mail")).to_have_value("carla@example.com")
