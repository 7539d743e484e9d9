"""``GET /metrics`` as Prometheus sees it: a customer's turn moves the turn, LLM and cost metrics, the
HTTP requests are counted by route, what waits in the database is read at the scrape, and a scraper
from elsewhere needs ATENDE_METRICS_TOKEN."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide

from channels.base import InboundMessage
from channels.models import Channel, Contact, Conversation, Message
from channels.registry import add_channel
from channels.service import add_bot_message
from conversations.delivery import deliver_message
from conversations.notify import Outgoing
from conversations.receive import receive
from conversations.services import Services
from core import outbox
from core.accounts import get_tenant
from core.database import open_database
from core.settings import Settings
from tests.conftest import MakeTenant, start_atende, stop_atende
from tests.fakes.llm_servers import FakeOpenAI, count_tokens
from tests.fakes.telegram_api import FakeTelegram, TelegramError
from tests.helpers import ChatCustomer, NoJobs, login, metric
from web.deps import provide_services
from web.metrics import MetricsController

QUESTION = "Quanto tempo de garantia têm as plantas?"
ANSWER = "As plantas têm garantia de 15 dias a partir da entrega [1]."
TOKEN = "scrape-token-for-the-tests"


@dataclass(frozen=True)
class MeteredServer:
    url: str
    data_dir: Path
    llm: FakeOpenAI


@pytest.fixture(scope="module")
def metered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MeteredServer]:
    """``atende demo`` answering with an OpenAI model (a fake on 127.0.0.1 that reports usage)."""
    with FakeOpenAI(lambda body: ANSWER) as llm:
        env = {
            "ATENDE_LLM_PROVIDER": "openai",
            "ATENDE_LLM_MODEL": "gpt-4o-mini",
            "ATENDE_LLM_BASE_URL": llm.base_url,
            "ATENDE_LLM_API_KEY": "sk-test",
            "ATENDE_METRICS_TOKEN": TOKEN,
        }
        data_dir = tmp_path_factory.mktemp("metered")
        process, url = start_atende(data_dir, "demo", env=env)
        try:
            yield MeteredServer(url, data_dir, llm)
        finally:
            stop_atende(process)


async def _demo_tenant_id(data_dir: Path) -> str:
    async with open_database(Settings(data_dir=data_dir)) as database, database.sessionmaker() as session:
        return str((await get_tenant(session, "demo")).id)


def test_a_turn_moves_the_turn_llm_and_cost_metrics(metered: MeteredServer) -> None:
    client = httpx.Client(base_url=metered.url, timeout=30)
    session = ChatCustomer.start(client)
    assert session.send(QUESTION).status_code == 202
    _, reply = session.wait_for(2)
    assert reply["text"] == "As plantas têm garantia de 15 dias a partir da entrega."

    scraped = client.get("/metrics")  # from 127.0.0.1: no token needed
    assert scraped.status_code == 200, scraped.text
    assert scraped.headers["content-type"].startswith("text/plain")
    text = scraped.text
    assert metric(text, "atende_turns_total", outcome="replied") == 1
    assert metric(text, "atende_turn_seconds_count", outcome="replied") == 1
    assert (metric(text, "atende_turn_seconds_sum", outcome="replied") or 0) > 0
    llm_call = {"provider": "openai", "model": "gpt-4o-mini", "call": "stream", "outcome": "ok"}
    assert metric(text, "atende_llm_call_seconds_count", **llm_call) == 1

    tenant = asyncio.run(_demo_tenant_id(metered.data_dir))
    assert metric(text, "atende_llm_tokens_total", tenant=tenant, direction="output") == count_tokens(ANSWER)
    assert (metric(text, "atende_llm_tokens_total", tenant=tenant, direction="input") or 0) > 0
    assert (metric(text, "atende_llm_cost_usd_total", tenant=tenant) or 0) > 0  # gpt-4o-mini is priced

    # HTTP requests by route template: the tenant's slug and the session are not in the labels.
    posted = metric(
        text,
        "atende_http_requests_total",
        method="POST",
        path="/api/v1/webchat/{tenant_slug}/messages",
        status_code="202",
    )
    assert posted == 1
    assert session.session_id not in text

    # What waits in the database, read now: the message was answered, nothing is stuck in the outbox.
    assert metric(text, "atende_unanswered_messages") == 0
    assert metric(text, "atende_unanswered_oldest_seconds") == 0
    assert metric(text, "atende_outbox_dead_jobs", kind="message") == 0
    assert metric(text, "atende_outbox_pending_jobs", kind="webhook") == 0


def test_a_scrape_forwarded_from_elsewhere_needs_the_metrics_token(metered: MeteredServer) -> None:
    """A reverse proxy on the machine names the real client (X-Forwarded-For, trusted from 127.0.0.1):
    what it forwards is not local, and a staff login is no key to the metrics."""
    client = httpx.Client(base_url=metered.url, timeout=30)
    forwarded = {"X-Forwarded-For": "203.0.113.7"}
    refused = client.get("/metrics", headers=forwarded)
    assert refused.status_code == 403
    assert "ATENDE_METRICS_TOKEN" in refused.json()["detail"]
    credentials = json.loads((metered.data_dir / "demo-credentials.json").read_text())
    staff = login(client, ("admin@demo.atende.dev", credentials["admin@demo.atende.dev"]))
    assert client.get("/metrics", headers={**forwarded, **staff}).status_code == 403

    accepted = client.get("/metrics", headers={**forwarded, "Authorization": f"Bearer {TOKEN}"})
    assert accepted.status_code == 200
    assert metric(accepted.text, "atende_unanswered_messages") is not None
    assert metric(accepted.text, "atende_http_requests_total", path="/metrics", status_code="403") == 2


def _scraper(services: Services, token: str | None, address: str) -> httpx.AsyncClient:
    """A client at ``address`` of the controller as ``create_app`` mounts it, with the tests' services."""
    app = Litestar(
        route_handlers=[MetricsController],
        state=State({"services": services, "metrics_token": token}),
        dependencies={"services": Provide(provide_services, sync_to_thread=False)},
    )
    transport = httpx.ASGITransport(app=app, client=(address, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://atende.test")


ELSEWHERE = "203.0.113.7"


async def test_a_scraper_from_elsewhere_needs_the_metrics_token(services: Services) -> None:
    async with _scraper(services, TOKEN, ELSEWHERE) as client:
        refused = await client.get("/metrics")
        assert refused.status_code == 403
        assert "ATENDE_METRICS_TOKEN" in refused.json()["detail"]
        assert "atende_" not in refused.text
        for wrong in (f"Bearer {TOKEN}x", f"Basic {TOKEN}", TOKEN, "Bearer "):
            assert (await client.get("/metrics", headers={"Authorization": wrong})).status_code == 403

        accepted = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert accepted.status_code == 200
        assert metric(accepted.text, "atende_unanswered_messages") is not None
        assert metric(accepted.text, "atende_outbox_dead_jobs", kind="webhook") is not None


async def test_without_a_metrics_token_only_this_machine_may_scrape(services: Services) -> None:
    async with _scraper(services, None, ELSEWHERE) as client:
        assert (await client.get("/metrics")).status_code == 403
        assert (await client.get("/metrics", headers={"Authorization": "Bearer "})).status_code == 403
        assert (await client.get("/metrics", headers={"Authorization": "Bearer None"})).status_code == 403
    for here in ("127.0.0.1", "127.3.2.1", "::1", "::ffff:127.0.0.1"):
        async with _scraper(services, None, here) as client:
            assert (await client.get("/metrics")).status_code == 200, here


async def _reply_on(services: Services, channel: Channel, text: str) -> uuid.UUID:
    """A customer writes on the channel; a reply to them is stored with its outbox job, as a turn does."""
    chat = str(uuid.uuid4().int % 10**9 + 10**9)
    received = await receive(services, channel, InboundMessage(chat, "oi", channel_message_id=f"m-{chat}"))
    async with services.database.sessionmaker.begin() as session:
        asked = await session.get_one(Message, received.message_id)
        asked.processed = True  # answered below: not left in the backlog
        conversation = await session.get_one(Conversation, asked.conversation_id)
        contact = await session.get_one(Contact, conversation.contact_id)
        reply = add_bot_message(session, conversation, text, reply_to=asked)
        await session.flush()
        Outgoing.of(reply, channel.type, contact.external_id)
        return reply.id


async def _scrape(services: Services) -> str:
    async with _scraper(services, None, "127.0.0.1") as client:
        scraped = await client.get("/metrics")
    assert scraped.status_code == 200
    return scraped.text


async def test_outbox_attempts_and_dead_jobs_show_in_the_scrape(
    services: Services, make_tenant: MakeTenant
) -> None:
    settings = dataclasses.replace(services.settings, delivery_attempts=2, delivery_backoff_seconds=0.01)
    quick = dataclasses.replace(services, settings=settings, jobs=NoJobs())
    tenant = await make_tenant(with_kb=False)
    with FakeTelegram(token="555000222:AAE-metrics-test-token") as telegram:
        raw = {
            "type": "telegram",
            "token": telegram.token,
            "webhook_secret": "s",
            "api_base": telegram.base_url,
        }
        async with quick.database.sessionmaker.begin() as session:
            channel = await add_channel(session, tenant.id, raw, settings.resolved_secret_key())
        before = await _scrape(quick)

        sent = await _reply_on(quick, channel, "Seu pedido saiu para entrega.")
        telegram.script("sendMessage", TelegramError.server_error())
        assert await deliver_message(quick, sent) == outbox.JobStatus.DONE  # the second try
        given_up = await _reply_on(quick, channel, "Seu pedido chegou.")
        telegram.script("sendMessage", TelegramError.server_error(), TelegramError.server_error())
        assert await deliver_message(quick, given_up) == outbox.JobStatus.DEAD
        after = await _scrape(quick)

    def moved(name: str, **labels: str) -> float:
        return (metric(after, name, **labels) or 0) - (metric(before, name, **labels) or 0)

    assert moved("atende_deliveries_total", kind="message", status="retrying") == 2
    assert moved("atende_deliveries_total", kind="message", status="sent") == 1
    assert moved("atende_deliveries_total", kind="message", status="dead") == 1
    assert moved("atende_outbox_dead_jobs", kind="message") == 1
    assert moved("atende_outbox_pending_jobs", kind="message") == 0
