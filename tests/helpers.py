"""Helpers shared by the tests that talk HTTP to a running ``atende demo`` (the ``live_server`` fixture).

Logging in, a tenant of a test's own, a web chat customer (``ChatCustomer``), waiting for a ticket or a condition, a
customer on a messaging channel, reading a metrics scrape; and, for tests in this process, the app as
``create_app`` builds it, over the suite's services, with the pipeline's jobs dropped. They were copied
from one test module to the next, or imported from another test module; here there is one copy of each,
and no test module imports another's.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text as sql_text

from channels.plugins import ChannelLifecycles
from conversations.channel_host import PipelineHost
from conversations.services import Services
from core.accounts import create_tenant, create_user
from core.database import open_database
from core.settings import Settings
from runtime.app import create_app
from tests.conftest import LiveServer

# ---- staff: logging in, and tenants of a test's own --------------------------------------------------


def _logged_in(client: httpx.Client, credentials: tuple[str, str]) -> dict[str, Any]:
    response = client.post("/api/v1/auth/login", json={"email": credentials[0], "password": credentials[1]})
    assert response.status_code == 200, response.text
    return dict(response.json())


def login(client: httpx.Client, credentials: tuple[str, str]) -> dict[str, str]:
    """The headers of a session of the user with these (email, password)."""
    return {"Authorization": f"Bearer {_logged_in(client, credentials)['token']}"}


def login_with_id(client: httpx.Client, credentials: tuple[str, str]) -> tuple[dict[str, str], str]:
    """As ``login``, and the user's id as well."""
    body = _logged_in(client, credentials)
    return {"Authorization": f"Bearer {body['token']}"}, str(body["user"]["id"])


@dataclass(frozen=True)
class AdminTenant:
    slug: str
    admin: tuple[str, str]
    agent: tuple[str, str]


async def create_admin_tenant(live_server: LiveServer) -> AdminTenant:
    """A tenant with an admin and an agent, made by the account services on the server's database."""
    slug = f"adm-{uuid.uuid4().hex[:10]}"
    people = {
        "admin": (f"admin@{slug}.test", "admin-pass-1"),
        "agent": (f"agent@{slug}.test", "agent-pass-1"),
    }
    async with (
        open_database(Settings(data_dir=live_server.data_dir)) as database,
        database.sessionmaker.begin() as session,
    ):
        tenant = await create_tenant(session, slug)
        for role, (email, password) in people.items():
            await create_user(session, tenant, email, password, role)
    return AdminTenant(slug, people["admin"], people["agent"])


def make_admin_tenant(live_server: LiveServer) -> AdminTenant:
    return asyncio.run(create_admin_tenant(live_server))


# ---- a web chat customer -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ChatCustomer:
    """A customer on a tenant's web chat, as the chat page is one: a session the server issued and its
    token, which every read, post and socket carries. ``name`` is what the team sees them called.

    The sync methods suit tests with an ``httpx.Client``; the ``a``-prefixed ones, async tests."""

    url: str
    tenant: str
    session_id: str
    token: str
    name: str

    @classmethod
    def _issued(cls, url: str, tenant: str, response: httpx.Response) -> ChatCustomer:
        assert response.status_code == 201, response.text
        body = response.json()
        return cls(url, tenant, body["session_id"], body["token"], body["name"])

    @classmethod
    def start(cls, server: str | httpx.Client, tenant: str = "demo") -> ChatCustomer:
        url = str(server.base_url if isinstance(server, httpx.Client) else server).rstrip("/")
        return cls._issued(url, tenant, httpx.post(f"{url}/api/v1/webchat/{tenant}/sessions", timeout=30))

    @classmethod
    async def astart(cls, server: str | httpx.AsyncClient, tenant: str = "demo") -> ChatCustomer:
        url = str(server.base_url if isinstance(server, httpx.AsyncClient) else server).rstrip("/")
        async with httpx.AsyncClient(timeout=30) as client:
            response = await client.post(f"{url}/api/v1/webchat/{tenant}/sessions")
        return cls._issued(url, tenant, response)

    @classmethod
    async def of_page(cls, url: str, tenant: str, page: Any) -> ChatCustomer:
        """The customer whose chat page (a Playwright page) is open: the session it keeps."""
        session_id, token = await page.evaluate(
            f"[localStorage.getItem('atende:{tenant}:session'), localStorage.getItem('atende:{tenant}:token')]"
        )
        assert session_id and token, "the chat page holds no session"
        return cls(url.rstrip("/"), tenant, session_id, token, f"Visitante {session_id[:6]}")

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def _api(self) -> str:
        return f"{self.url}/api/v1/webchat/{self.tenant}"

    @property
    def events_url(self) -> str:
        """The live socket's address, its token in the query string as the page sends it."""
        ws = self.url.replace("http", "ws", 1)
        return f"{ws}/api/v1/webchat/{self.tenant}/sessions/{self.session_id}/events?token={self.token}"

    def _body(self, text: str, extra: dict[str, Any]) -> dict[str, Any]:
        return {"session_id": self.session_id, "text": text, **extra}

    def send(self, text: str, **extra: Any) -> httpx.Response:
        return httpx.post(
            f"{self._api}/messages", json=self._body(text, extra), headers=self.headers, timeout=30
        )

    async def asend(self, text: str, **extra: Any) -> httpx.Response:
        async with httpx.AsyncClient(timeout=30) as client:
            return await client.post(
                f"{self._api}/messages", json=self._body(text, extra), headers=self.headers
            )

    def transcript(self) -> httpx.Response:
        return httpx.get(f"{self._api}/sessions/{self.session_id}/messages", headers=self.headers, timeout=30)

    async def atranscript(self) -> httpx.Response:
        async with httpx.AsyncClient(timeout=30) as client:
            return await client.get(f"{self._api}/sessions/{self.session_id}/messages", headers=self.headers)

    def messages(self) -> list[dict[str, Any]]:
        response = self.transcript()
        assert response.status_code == 200, response.text
        found: list[dict[str, Any]] = response.json()
        return found

    async def amessages(self) -> list[dict[str, Any]]:
        response = await self.atranscript()
        assert response.status_code == 200, response.text
        found: list[dict[str, Any]] = response.json()
        return found

    def wait_for(self, count: int, timeout: float = 60) -> list[dict[str, Any]]:
        """The session's messages once there are ``count`` (or what there is when ``timeout`` runs out)."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.messages()
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.2)

    async def await_messages(self, count: int, within: float = 60) -> list[dict[str, Any]]:
        """As ``wait_for``, for async tests."""
        deadline = time.monotonic() + within
        while True:
            found = await self.amessages()
            if len(found) >= count or time.monotonic() > deadline:
                return found
            await asyncio.sleep(0.2)


# ---- tickets, and waiting ------------------------------------------------------------------------


def ticket_of(
    client: httpx.Client, headers: dict[str, str], name: str, status: str = "pending"
) -> dict[str, Any]:
    """The one ticket of the contact called ``name`` among the tickets with ``status``, now."""
    tickets: list[dict[str, Any]] = client.get(
        "/api/v1/tickets", params={"status": status}, headers=headers
    ).json()
    [ticket] = [t for t in tickets if t["contact"] == name]
    return ticket


def ticket_for(
    client: httpx.Client, headers: dict[str, str], name: str, timeout: float = 30
) -> dict[str, Any]:
    """The one ticket of the contact ``name``, waiting up to ``timeout`` seconds for it to be opened."""
    deadline = time.monotonic() + timeout
    while True:
        everyone: list[dict[str, Any]] = client.get("/api/v1/tickets", headers=headers).json()
        tickets = [t for t in everyone if t["contact"] == name]
        if tickets or time.monotonic() > deadline:
            [ticket] = tickets
            return ticket
        time.sleep(0.2)


def eventually(condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


# ---- a fault in the database, for jobs that fail on every try ----------------------------------------


async def _sql(data_dir: Path, *statements: str) -> None:
    async with (
        open_database(Settings(data_dir=data_dir)) as database,
        database.sessionmaker.begin() as session,
    ):
        for statement in statements:
            await session.execute(sql_text(statement))


async def refuse_to_answer(data_dir: Path, text: str) -> str:
    """The server's database refuses to mark a customer message with this text handled (a trigger
    raising, as a broken constraint would): its turn fails on every try, and so does handing it to a
    human, which marks it handled too. Returns the fault's name, for ``stop_refusing``."""
    name = f"refuse_{uuid.uuid4().hex[:12]}"
    quoted = text.replace("'", "''")
    await _sql(
        data_dir,
        f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN RAISE EXCEPTION 'the database refuses this message'; END $$",
        f"CREATE TRIGGER {name} BEFORE UPDATE ON messages FOR EACH ROW "
        f"WHEN (NEW.processed AND NOT OLD.processed AND NEW.text = '{quoted}') EXECUTE FUNCTION {name}()",
    )
    return name


async def stop_refusing(data_dir: Path, name: str) -> None:
    """The fault fixed."""
    await _sql(data_dir, f"DROP TRIGGER IF EXISTS {name} ON messages", f"DROP FUNCTION IF EXISTS {name}()")


@contextlib.contextmanager
def database_refuses_to_answer(data_dir: Path, text: str) -> Iterator[Callable[[], None]]:
    """``refuse_to_answer`` for a block; yields ``fix`` (also called on the way out)."""
    name = asyncio.run(refuse_to_answer(data_dir, text))

    def fix() -> None:
        asyncio.run(stop_refusing(data_dir, name))

    try:
        yield fix
    finally:
        fix()


# ---- a customer on a messaging channel --------------------------------------------------------------


class ChannelCustomer(abc.ABC):
    """A customer writing on a messaging channel; a channel's tests say how to read what was sent to them."""

    name: str

    @abc.abstractmethod
    def received(self) -> Sequence[Any]:
        """What the channel's fake server took for this customer, in order."""

    @abc.abstractmethod
    def texts(self) -> list[str]:
        """The words of the text replies among what was received."""

    def wait_for_replies(self, count: int, timeout: float = 90) -> list[str]:
        deadline = time.monotonic() + timeout
        while len(self.received()) < count:
            assert time.monotonic() < deadline, f"{self.name} got {len(self.received())} of {count} replies"
            time.sleep(0.2)
        return self.texts()


# ---- Prometheus metrics, as a scraper reads them ----------------------------------------------------


def metric(exposition: str, name: str, **labels: str) -> float | None:
    """The sum of the samples called ``name`` whose labels include ``labels``; None when there is none."""
    found = [
        sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    ]
    return sum(found) if found else None


# ---- the app in this process ------------------------------------------------------------------------


class NoJobs:
    """The pipeline's jobs, dropped: a test runs (or delivers) what it needs itself, and no turn answers."""

    async def run_turn(self, message_id: uuid.UUID) -> None:
        pass

    async def deliver_message(self, message_id: uuid.UUID) -> None:
        pass

    async def deliver_webhook(self, delivery_id: uuid.UUID) -> None:
        pass

    async def ingest_upload(self, tenant_id: uuid.UUID, document_id: uuid.UUID) -> None:
        pass


@contextlib.asynccontextmanager
async def app_client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the whole app as ``create_app`` builds it (every route, middleware and error handler),
    on ``services`` instead of the ones its lifespan would open."""
    app = create_app(services.settings)
    host = PipelineHost(services)
    app.state.services, app.state.channel_host = services, host
    app.state.channel_lifecycles = ChannelLifecycles(host, services.adapters)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://atende.test") as client:
        yield client


async def login_async(client: httpx.AsyncClient, email: str, password: str) -> dict[str, str]:
    """The headers of a session of this user, on an ``app_client``."""
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}
