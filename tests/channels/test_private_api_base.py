"""A tenant admin cannot point a channel's ``api_base`` into the network Atende runs in (issue 15, SSRF).

The admin's save is refused naming ``api_base``; a row made private some other way (here, written to
the database directly) is refused at each connection: the internal server (a real HTTP server on
127.0.0.1, speaking Graph or the Bot API) gets no request and no token, a reply goes dead with the
reason, and the media endpoint has nothing to serve. These tests turn private networks off (the rest
of the suite allows them, for its fakes on 127.0.0.1).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide

from channels.base import Attachment, ClosingAdapter, InboundMessage, MessageContent
from channels.models import Channel, Contact, Conversation, DeliveryStatus, Message
from channels.plugin import AdapterResources
from channels.plugins import PLUGINS, ChannelLifecycles
from channels.registry import add_channel
from channels.service import add_bot_message
from conversations.channel_host import PipelineHost
from conversations.delivery import deliver_message
from conversations.notify import Outgoing
from conversations.receive import receive
from conversations.services import Services
from conversations.turn import run_turn
from core import outbox
from core.accounts import Tenant, create_user
from tests.conftest import MakeTenant
from tests.fakes.graph_api import FakeGraphAPI
from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import NoJobs
from web.admin import AdminController
from web.auth import AuthController, build_jwt_auth
from web.channels_admin import ChannelAdminController
from web.deps import provide_db_session, provide_services
from web.errors import exception_handlers
from web.media import MediaController
from web.rate_limits import RateLimits

PUBLIC_GRAPH = "https://93.184.216.34"
"""A public address (an IP, so saving it needs no DNS): what a channel was saved with."""
JPEG = b"\xff\xd8\xff\xe0 an internal file the customer must never see"
BOT_TOKEN = "555000333:AAE-ssrf-test-token"


@pytest.fixture
async def guarded(services: Services) -> AsyncIterator[Services]:
    """The suite's services with private networks refused, as a default install runs."""
    settings = dataclasses.replace(
        services.settings, allow_private_networks=False, delivery_attempts=3, delivery_backoff_seconds=0.01
    )
    resources = AdapterResources(
        media=services.media, publisher=services.publisher, data_dir=settings.data_dir
    )
    adapters = {plugin.type: plugin.make_adapter(resources) for plugin in PLUGINS}
    try:
        yield dataclasses.replace(services, settings=settings, adapters=adapters, jobs=NoJobs())
    finally:
        for adapter in adapters.values():
            if isinstance(adapter, ClosingAdapter):
                await adapter.close()


def _app(services: Services) -> Litestar:
    """Login, the channels' admin and the media endpoint, mounted as ``create_app`` mounts them."""
    jwt_auth = build_jwt_auth(services.settings.resolved_secret_key())
    lifecycles = ChannelLifecycles(PipelineHost(services), services.adapters)
    return Litestar(
        route_handlers=[AuthController, AdminController, ChannelAdminController, MediaController],
        state=State(
            {
                "services": services,
                "jwt_auth": jwt_auth,
                "secret_key": services.settings.resolved_secret_key(),
                "rate_limits": RateLimits(None),
            }
        ),
        on_app_init=[jwt_auth.on_app_init],
        dependencies={
            "services": Provide(provide_services, sync_to_thread=False),
            "db_session": Provide(provide_db_session),
            "channel_lifecycles": Provide(lambda: lifecycles, sync_to_thread=False),
        },
        exception_handlers=exception_handlers,
    )


@pytest.fixture
async def admin(
    guarded: Services, make_tenant: MakeTenant
) -> AsyncIterator[tuple[httpx.AsyncClient, Tenant]]:
    """A client logged in as a fresh tenant's admin."""
    tenant = await make_tenant(with_kb=False)
    email = f"admin-{uuid.uuid4().hex[:8]}@ssrf.test"
    async with guarded.database.sessionmaker.begin() as session:
        await create_user(session, tenant, email, "admin-pass-1", "admin")
    transport = httpx.ASGITransport(app=_app(guarded))
    async with httpx.AsyncClient(transport=transport, base_url="http://atende.test") as client:
        login = await client.post("/api/v1/auth/login", json={"email": email, "password": "admin-pass-1"})
        assert login.status_code == 200, login.text
        client.headers["Authorization"] = f"Bearer {login.json()['token']}"
        yield client, tenant


def _whatsapp(api_base: str | None) -> dict[str, str]:
    settings = {
        "type": "whatsapp-cloud",
        "name": f"wa-{uuid.uuid4().hex[:8]}",
        "token": "EAAG-ssrf-token",
        "app_secret": "app-secret",
        "verify_token": "verify",
        "phone_number_id": "106540352242922",
    }
    return settings | ({"api_base": api_base} if api_base else {})


def _refused_naming_api_base(response: httpx.Response) -> None:
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["field"] == "api_base"
    assert "private or local" in error["reason"]


async def test_saving_a_whatsapp_channel_with_an_internal_api_base_is_refused_naming_it(
    admin: tuple[httpx.AsyncClient, Tenant],
) -> None:
    client, _ = admin
    with FakeGraphAPI() as internal:
        for api_base in (
            internal.base_url,  # http://127.0.0.1:PORT
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]:8000",
            f"http://localhost:{internal.port}",  # a name that resolves to loopback
            "http://[::ffff:127.0.0.1]:6379",
            "http://10.0.0.5",
        ):
            _refused_naming_api_base(await client.post("/api/v1/admin/channels/", json=_whatsapp(api_base)))
        assert internal.requests == []
    stored = await client.get("/api/v1/admin/channels/")
    assert stored.status_code == 200 and stored.json() == []  # nothing was stored

    public = await client.post("/api/v1/admin/channels/", json=_whatsapp(PUBLIC_GRAPH))
    assert public.status_code == 201, public.text
    assert public.json()["config"]["api_base"] == PUBLIC_GRAPH


async def test_an_llm_base_url_into_the_internal_network_is_refused_naming_it(
    admin: tuple[httpx.AsyncClient, Tenant],
) -> None:
    client, _ = admin
    for name in ("primary", "fallback"):
        choice = {"provider": "openai-compatible", "model": "m", "base_url": "http://127.0.0.1:11434/v1"}
        public = {"provider": "openai-compatible", "model": "m", "base_url": "https://93.184.216.34/v1"}
        body = {"primary": public, "fallback": choice} if name == "fallback" else {"primary": choice}
        refused = await client.put("/api/v1/admin/llm", json=body)
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == f"{name}.base_url"
    assert (await client.get("/api/v1/admin/llm")).json()["primary"] is None  # nothing was saved
    saved = await client.put("/api/v1/admin/llm", json={"primary": public})
    assert saved.status_code == 200, saved.text


async def test_a_telegram_channel_cannot_be_saved_or_changed_to_an_internal_api_base(
    admin: tuple[httpx.AsyncClient, Tenant],
) -> None:
    client, _ = admin
    with FakeTelegram(token=BOT_TOKEN) as internal:
        bot = {"type": "telegram", "token": BOT_TOKEN, "webhook_secret": "s", "api_base": internal.base_url}
        _refused_naming_api_base(await client.post("/api/v1/admin/channels/", json=bot))
        assert (await client.get("/api/v1/admin/channels/")).json() == []

        added = await client.post("/api/v1/admin/channels/", json=bot | {"api_base": PUBLIC_GRAPH})
        assert added.status_code == 201, added.text
        channel_id = added.json()["id"]
        changed = await client.patch(
            f"/api/v1/admin/channels/{channel_id}", json={"api_base": "http://localhost:6379"}
        )
        _refused_naming_api_base(changed)
        [kept] = (await client.get("/api/v1/admin/channels/")).json()
        assert kept["config"]["api_base"] == PUBLIC_GRAPH  # nothing changed
        assert internal.calls("getMe") == [] and internal.calls("setWebhook") == []


async def _made_private(
    services: Services, tenant: Tenant, raw: dict[str, str], internal_url: str
) -> Channel:
    """A channel saved with a public server, then pointed at an internal one behind the admin's back."""
    async with services.database.sessionmaker.begin() as session:
        channel = await add_channel(session, tenant.id, raw, services.settings.resolved_secret_key())
        await session.flush()
        channel.config = {**channel.config, "api_base": internal_url}
    return channel


async def _reply_on(services: Services, channel: Channel, to: str) -> uuid.UUID:
    """A customer writes; a reply to them is stored with its outbox job, as a turn does."""
    received = await receive(
        services, channel, InboundMessage(to, "oi", channel_message_id=f"m-{uuid.uuid4()}")
    )
    async with services.database.sessionmaker.begin() as session:
        asked = await session.get_one(Message, received.message_id)
        asked.processed = True
        conversation = await session.get_one(Conversation, asked.conversation_id)
        contact = await session.get_one(Contact, conversation.contact_id)
        reply = add_bot_message(session, conversation, "Seu pedido saiu para entrega.", reply_to=asked)
        await session.flush()
        Outgoing.of(reply, channel.type, contact.external_id)
        return reply.id


async def _failed_reason(services: Services, message_id: uuid.UUID) -> str | None:
    async with services.database.sessionmaker() as session:
        message = await session.get_one(Message, message_id)
        assert message.delivery_status == DeliveryStatus.FAILED
        return message.delivery_error


async def test_a_whatsapp_channel_made_private_sends_nothing_there_and_serves_no_internal_file(
    guarded: Services, admin: tuple[httpx.AsyncClient, Tenant]
) -> None:
    client, tenant = admin
    with FakeGraphAPI(access_token="EAAG-ssrf-token") as internal:
        channel = await _made_private(guarded, tenant, _whatsapp(PUBLIC_GRAPH), internal.base_url)
        media_id = internal.add_media(JPEG, "image/jpeg")
        photo = MessageContent(
            attachments=(Attachment(kind="image", file_id=media_id, mime_type="image/jpeg"),)
        )
        wa_id = f"55119{uuid.uuid4().int % 10**8:08d}"
        received = await receive(
            guarded, channel, InboundMessage(wa_id, "", f"wamid.{uuid.uuid4()}", content=photo)
        )
        await run_turn(guarded, received.message_id)  # fetches the photo, then hands it to a human
        served = await client.get(f"/api/v1/media/{received.message_id}/0")
        assert served.status_code == 404
        assert JPEG not in served.content

        reply_id = await _reply_on(guarded, channel, wa_id)
        assert await deliver_message(guarded, reply_id) == outbox.JobStatus.DEAD  # at once: never retried
        reason = await _failed_reason(guarded, reply_id)
        assert reason is not None and "127.0.0.1 is a private or local address" in reason
        assert internal.requests == []  # no request, no token


async def test_a_telegram_channel_made_private_sends_nothing_there(
    guarded: Services, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant(with_kb=False)
    with FakeTelegram(token=BOT_TOKEN) as internal:
        raw = {"type": "telegram", "token": BOT_TOKEN, "webhook_secret": "s", "api_base": PUBLIC_GRAPH}
        channel = await _made_private(guarded, tenant, raw, internal.base_url)
        reply_id = await _reply_on(guarded, channel, str(uuid.uuid4().int % 10**9 + 10**9))
        assert await deliver_message(guarded, reply_id) == outbox.JobStatus.DEAD
        reason = await _failed_reason(guarded, reply_id)
        assert reason is not None and "private or local address" in reason

        by_name = await _made_private(
            guarded, tenant, raw | {"name": "by-name"}, f"http://localhost:{internal.port}"
        )
        reply_id = await _reply_on(guarded, by_name, str(uuid.uuid4().int % 10**9 + 10**9))
        assert await deliver_message(guarded, reply_id) == outbox.JobStatus.DEAD
        assert "localhost is a private or local address" in (await _failed_reason(guarded, reply_id) or "")
        assert internal.calls("sendMessage") == []
