"""In Debian's Chromium: the hand-off from the bot to people, end to end and live.

A customer on the web chat page, agents in the inbox (each in a browser context of its own), a real
``atende demo`` server and its WebSockets. Every test works in a tenant of its own on the shared
server, so the demo tenant's queues (where other tests' escalations go) are never touched.

Elements are found by id and data attributes, not by the inbox's English words (it is about to be
translated); the assertions are on what people see: a ticket in the list, a text in a conversation.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from playwright.async_api import Browser, Page, expect

from core.accounts import create_tenant, create_user
from core.database import open_database
from core.settings import Settings
from runtime.demo import DEMO_KB
from tests.conftest import LiveServer, run_cli
from tests.helpers import ChatCustomer

PASSWORD = "handoff-pass-1"
LIVE = 20_000
"""ms to wait for something that comes over the WebSocket (a bot turn runs the classifier first)."""


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    email: str


@dataclass(frozen=True)
class Company:
    slug: str
    people: dict[str, Person]


async def _company(server: LiveServer, people: dict[str, tuple[str, str]], *, with_kb: bool) -> Company:
    """A tenant of its own on the shared server, with these people ({key: (name, role)}), and the
    demo's help-centre articles as its knowledge base when the bot has to answer."""
    slug = f"hb-{uuid.uuid4().hex[:10]}"
    made: dict[str, Person] = {}
    async with (
        open_database(Settings(data_dir=server.data_dir)) as database,
        database.sessionmaker.begin() as session,
    ):
        tenant = await create_tenant(session, slug, "Jardim Nuvem")
        for key, (name, role) in people.items():
            email = f"{key}@{slug}.test"
            user = await create_user(session, tenant, email, PASSWORD, role, name)
            made[key] = Person(str(user.id), name, email)
    if with_kb:
        ingested = await asyncio.to_thread(
            run_cli, server.data_dir, "kb", "ingest", str(DEMO_KB), "--tenant", slug
        )
        assert ingested.returncode == 0, ingested.stderr
    return Company(slug, made)


async def _headers(client: httpx.AsyncClient, person: Person) -> dict[str, str]:
    response = await client.post("/api/v1/auth/login", json={"email": person.email, "password": PASSWORD})
    assert response.status_code == 201 or response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


async def _set_up_queues(
    server: LiveServer, admin: Person, default_members: list[Person], others: dict[str, list[Person]]
) -> dict[str, str]:
    """Over the admin API: who is in the default queue, and other queues with their members; the
    queues' ids by name."""
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        headers = await _headers(client, admin)
        [default] = (await client.get("/api/v1/admin/queues", headers=headers)).json()
        saved = await client.put(
            f"/api/v1/admin/queues/{default['id']}",
            json={"name": default["name"], "members": [p.id for p in default_members]},
            headers=headers,
        )
        assert saved.status_code == 200, saved.text
        ids = {default["name"]: default["id"]}
        for name, members in others.items():
            created = await client.post(
                "/api/v1/admin/queues",
                json={"name": name, "members": [p.id for p in members]},
                headers=headers,
            )
            assert created.status_code == 201, created.text
            ids[name] = created.json()["id"]
    return ids


async def _api_get(server: LiveServer, person: Person, path: str) -> Any:
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
        response = await client.get(path, headers=await _headers(client, person))
        assert response.status_code == 200, response.text
        return response.json()


async def _customer_sees(chat: ChatCustomer) -> list[str]:
    """The conversation as the customer's channel API gives it."""
    return [m["text"] for m in await chat.amessages()]


async def _live(page: Page) -> None:
    """The page's WebSocket is open, and a marker shows later whether the page was ever reloaded."""
    await expect(page.locator("body")).to_have_attribute("data-live", "1")
    await page.evaluate("window.__sameDocument = true")


async def _never_reloaded(page: Page) -> None:
    assert await page.evaluate("window.__sameDocument === true"), "the page was reloaded"


async def _inbox(browser: Browser, server: LiveServer, person: Person, *, locale: str = "en-US") -> Page:
    """``person`` logged in to the inbox in a browser context of their own (its language follows the
    browser's), live."""
    page = await (await browser.new_context(locale=locale)).new_page()
    await page.goto(f"{server.url}/inbox")
    await page.locator("#email").fill(person.email)
    await page.locator("#password").fill(PASSWORD)
    await page.locator("#login [type=submit]").click()
    await expect(page.locator("#me")).to_have_text(person.name)
    await _live(page)
    return page


async def _chat(browser: Browser, server: LiveServer, slug: str) -> tuple[Page, ChatCustomer]:
    """A customer on the tenant's web chat page, and the session it keeps."""
    page = await (await browser.new_context()).new_page()
    await page.goto(f"{server.url}/chat/{slug}")
    await _live(page)
    return page, await ChatCustomer.of_page(server.url, slug, page)


async def _say(customer: Page, text: str) -> None:
    await customer.locator("#text").fill(text)
    await customer.locator("#composer [type=submit]").click()
    await expect(customer.locator('#messages [data-author="customer"]').last).to_have_text(text)


def _bot(customer: Page) -> Any:
    """The bot's stored messages on the chat page (not a reply still being written)."""
    return customer.locator('#messages [data-author="bot"]:not(.draft)')


def _listed(page: Page, ticket_id: str) -> Any:
    return page.locator(f'#tickets li[data-ticket-id="{ticket_id}"]')


async def _open_ticket(agent: Page, contact: str) -> str:
    """Wait for the customer's ticket to reach ``agent``'s list live, open it: its id."""
    item = agent.locator("#tickets li", has_text=contact)
    await expect(item).to_be_visible(timeout=LIVE)
    ticket_id = await item.get_attribute("data-ticket-id")
    assert ticket_id
    await item.click()
    await expect(agent.locator("#ticket-title")).to_contain_text(contact)
    return ticket_id


async def _tab(page: Page, status: str) -> None:
    await page.locator(f'.tabs [data-status="{status}"]').click()


async def _write_note(agent: Page, text: str) -> None:
    """The reply box with its "internal note" box ticked."""
    await agent.locator("#reply-note").check()
    await agent.locator("#reply-text").fill(text)
    await agent.locator("#reply [type=submit]").click()


async def _transfer(agent: Page, *, note: str, queue_id: str = "", assignee_id: str = "") -> None:
    await agent.locator("#transfer-open").click()
    form = agent.locator("#transfer")
    await expect(form).to_be_visible()
    if queue_id:
        await agent.locator("#transfer-queue").select_option(value=queue_id)
    if assignee_id:
        await agent.locator("#transfer-agent").select_option(value=assignee_id)
    await agent.locator("#transfer-note").fill(note)
    await form.locator("[type=submit]").click()
    await expect(agent.locator("#transfer-error")).to_be_empty()
    await expect(form).to_be_hidden()


async def test_an_escalation_reaches_the_agent_live_who_replies_notes_and_transfers_it(
    browser: Browser, live_server: LiveServer
) -> None:
    company = await _company(
        live_server,
        {
            "admin": ("Ana Admin", "admin"),
            "support": ("Sara Suporte", "agent"),
            "billing": ("Fábio Financeiro", "agent"),
        },
        with_kb=True,
    )
    support, billing = company.people["support"], company.people["billing"]
    queues = await _set_up_queues(live_server, company.people["admin"], [support], {"Financeiro": [billing]})
    # One in Portuguese, one in English: nothing here depends on the inbox's words.
    agent = await _inbox(browser, live_server, support, locale="pt-BR")
    other = await _inbox(browser, live_server, billing)

    # 1. The customer asks the bot, then asks for a person: the ticket reaches the agent live.
    customer, chat = await _chat(browser, live_server, company.slug)
    question = "Vocês parcelam no cartão?"
    await _say(customer, question)
    await expect(_bot(customer).first).to_contain_text("10 vezes sem juros", timeout=LIVE)
    await _say(customer, "quero falar com um atendente")
    await expect(_bot(customer)).to_have_count(2, timeout=LIVE)

    ticket_id = await _open_ticket(agent, chat.name)
    await expect(agent.locator("#messages")).to_contain_text(question)

    # The AI summary: what the customer wants, what the bot tried, why it escalated, their mood.
    detail = await _api_get(live_server, support, f"/api/v1/tickets/{ticket_id}")
    classified = [m["decision"]["classification"] for m in detail["messages"] if m["author"] == "customer"]
    latest = classified[-1]
    summary = agent.locator("#summary")
    await expect(agent.locator("#assist")).to_be_visible(timeout=LIVE)
    await expect(summary).to_contain_text(question)  # wants
    await expect(summary).to_contain_text("10 vezes sem juros")  # the bot's earlier answer
    assert detail["ticket"]["reason"] == "the customer asked to talk to a person"
    await expect(summary).to_contain_text("o cliente pediu para falar com uma pessoa")  # why, in Portuguese
    await expect(summary).to_contain_text(latest["intent"])
    await expect(summary).to_contain_text(latest["sentiment"])
    await expect(summary).to_contain_text(str(latest["churn_risk"]))

    # 2. A suggested reply from the knowledge base, with its source: used, edited, sent.
    assist = await _api_get(live_server, support, f"/api/v1/tickets/{ticket_id}/assist")
    best = assist["suggestions"][0]
    assert best["citations"], "a suggestion says where it comes from"
    source = best["citations"][0]["title"] or best["citations"][0]["document"]
    suggestion = agent.locator("#suggestions .suggestion").first
    await expect(suggestion).to_contain_text(best["text"])
    await expect(suggestion).to_contain_text(source)
    await suggestion.locator("button").click()
    reply_box = agent.locator("#reply-text")
    await expect(reply_box).to_have_value(best["text"])
    await expect(reply_box).to_be_focused()
    await reply_box.press("End")
    await reply_box.press_sequentially(" Posso ajudar em algo mais?")
    edited = f"{best['text']} Posso ajudar em algo mais?"
    await expect(reply_box).to_have_value(edited)
    await agent.locator("#reply [type=submit]").click()
    await expect(agent.locator('#messages [data-author="agent"]').last).to_have_text(edited)
    await expect(customer.locator('#messages [data-author="agent"]')).to_have_text(edited)
    assert edited in await _customer_sees(chat)
    await _tab(agent, "open")  # replying took the ticket
    await expect(_listed(agent, ticket_id)).to_be_visible()

    # 3. An internal note: in the ticket's history, never on the customer's side.
    note = f"Cliente VIP, conferir o limite do cartão ({uuid.uuid4().hex[:6]})"
    await _write_note(agent, note)
    await expect(agent.locator('#messages [data-history="note"]')).to_contain_text(note)
    await expect(agent.locator("#reply-text")).to_have_value("")
    await expect(agent.locator('#messages [data-author="agent"]')).to_have_count(1)

    # 4. Transferred to the billing queue: its agent, in another context, sees it come and opens it.
    await expect(_listed(other, ticket_id)).to_have_count(0)  # not their queue until now
    handover = f"Parcelamento acima de 10x, com vocês ({uuid.uuid4().hex[:6]})"
    await _transfer(agent, note=handover, queue_id=queues["Financeiro"])
    await expect(_listed(agent, ticket_id)).to_have_count(0)  # no longer this agent's queue
    await expect(agent.locator("#ticket-header")).to_be_hidden()  # nor open in their pane

    arrived = _listed(other, ticket_id)
    await expect(arrived).to_be_visible(timeout=LIVE)
    await arrived.click()
    await expect(other.locator("#ticket-title")).to_contain_text(chat.name)
    await expect(other.locator('#messages [data-history="transferred"]')).to_contain_text(handover)
    await expect(other.locator('#messages [data-history="note"]')).to_contain_text(note)
    await expect(other.locator('#messages [data-author="agent"]')).to_have_text(edited)
    await expect(other.locator("#accept")).to_be_visible()
    await other.locator("#accept").click()
    await expect(other.locator("#accept")).to_be_hidden()

    for page in (agent, other, customer):
        await _never_reloaded(page)
    customer_sees = await _customer_sees(chat)
    assert not any(note in text or handover in text for text in customer_sees)
    await expect(customer.locator("#messages")).not_to_contain_text(note)
    await expect(customer.locator("#messages")).not_to_contain_text(handover)


async def test_a_supervisor_reassigns_a_ticket_and_the_new_agent_sees_it_live(
    browser: Browser, live_server: LiveServer
) -> None:
    company = await _company(
        live_server,
        {
            "admin": ("Ana Admin", "admin"),
            "first": ("Paulo Primeiro", "agent"),
            "second": ("Sônia Segunda", "agent"),
            "boss": ("Vera Supervisora", "supervisor"),
        },
        with_kb=False,
    )
    first, second, boss = company.people["first"], company.people["second"], company.people["boss"]
    await _set_up_queues(live_server, company.people["admin"], [first], {})
    supervisor = await _inbox(browser, live_server, boss, locale="pt-BR")
    newcomer = await _inbox(browser, live_server, second)
    await _tab(newcomer, "open")

    chat = await ChatCustomer.astart(live_server.url, company.slug)
    posted = await chat.asend("quero falar com um atendente")
    assert posted.status_code == 202, posted.text

    item = supervisor.locator("#tickets li", has_text=chat.name)  # a supervisor sees every queue
    await expect(item).to_be_visible(timeout=LIVE)
    ticket_id = await item.get_attribute("data-ticket-id")
    assert ticket_id
    await expect(_listed(newcomer, ticket_id)).to_have_count(0)  # not in her queue

    await item.click()
    await expect(supervisor.locator("#ticket-title")).to_contain_text(chat.name)
    why = f"Sônia conhece este cliente ({uuid.uuid4().hex[:6]})"
    await _transfer(supervisor, note=why, assignee_id=second.id)
    reassigned = supervisor.locator('#messages [data-history="transferred"]')
    await expect(reassigned).to_contain_text(second.name)
    await expect(reassigned).to_contain_text(why)

    arrived = _listed(newcomer, ticket_id)
    await expect(arrived).to_be_visible(timeout=LIVE)
    await arrived.click()
    await expect(newcomer.locator("#ticket-title")).to_contain_text(chat.name)
    await expect(newcomer.locator('#messages [data-history="transferred"]')).to_contain_text(why)
    await expect(newcomer.locator("#accept")).to_be_hidden()  # already hers
    await expect(newcomer.locator("#reply")).to_be_visible()
    await _never_reloaded(supervisor)
    await _never_reloaded(newcomer)

    ticket = (await _api_get(live_server, second, f"/api/v1/tickets/{ticket_id}"))["ticket"]
    assert (ticket["status"], ticket["assignee_id"]) == ("open", second.id)


async def test_closing_asks_the_customer_for_a_score_on_the_chat_and_keeps_it(
    browser: Browser, live_server: LiveServer
) -> None:
    company = await _company(live_server, {"agent": ("Carla Atendente", "agent")}, with_kb=False)
    person = company.people["agent"]
    agent = await _inbox(browser, live_server, person)
    customer, chat = await _chat(browser, live_server, company.slug)
    await _say(customer, "quero falar com um atendente")
    await expect(_bot(customer)).to_have_count(1, timeout=LIVE)

    ticket_id = await _open_ticket(agent, chat.name)
    await agent.locator("#accept").click()
    await expect(agent.locator("#accept")).to_be_hidden()
    await agent.locator("#close").click()
    await expect(agent.locator("#close")).to_be_hidden()
    await expect(agent.locator("#reply")).to_be_hidden()

    # The question comes to the customer's chat page live; a bare score answers it.
    await expect(_bot(customer)).to_have_count(2, timeout=LIVE)
    await expect(_bot(customer).last).to_have_text(re.compile(r"\b1\b.*\b5\b"))
    await _say(customer, "5")
    await expect(_bot(customer)).to_have_count(3, timeout=LIVE)  # thanked, not sent to the bot
    await _never_reloaded(customer)

    rated = (await _api_get(live_server, person, f"/api/v1/tickets/{ticket_id}"))["ticket"]
    assert (rated["status"], rated["csat_rating"]) == ("closed", 5)
    await _tab(agent, "closed")
    await expect(_listed(agent, ticket_id)).to_be_visible()
