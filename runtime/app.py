"""The Litestar app factory: services open for the app's lifetime, controllers, real-time channels."""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from litestar import Litestar, Router
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.base import ChannelsBackend
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.datastructures import State
from litestar.di import Provide
from litestar.static_files import create_static_files_router
from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore
from litestar.stores.redis import RedisStore
from litestar.template.config import TemplateConfig

from agents.classifiers import builtin_classifier
from channels.plugin import ChannelHost
from channels.plugins import PLUGINS, ChannelLifecycles
from conversations.channel_host import PipelineHost
from conversations.dead_letters import hand_out_replays
from conversations.delivery import stop_waiting_reports
from conversations.outbox import sweep as outbox_sweep
from conversations.services import open_services
from conversations.unanswered import unanswered_messages
from core.realtime import ChannelsPublisher
from core.settings import Settings, get_settings
from core.tracing import configure_tracing
from runtime.broker import BrokerJobs, broker
from runtime.redis_channels import ResilientPubSubBackend
from runtime.redis_check import require_redis
from runtime.sweeps import sweep_periodically, sweep_uploads
from web.admin import AdminController
from web.allowed_methods import name_allowed_methods
from web.auth import AuthController, build_jwt_auth
from web.channels_admin import ChannelAdminController
from web.contacts import ContactPanelController
from web.deps import provide_db_session, provide_services
from web.error_log import log_server_fault
from web.errors import exception_handlers
from web.evals import EvalRunController
from web.failed_jobs import FailedJobsController
from web.health import HealthController
from web.inbox_events import InboxEventsController
from web.integrations import IntegrationsController
from web.knowledge import KnowledgeController, upload_body_limit
from web.media import MediaController
from web.metrics import HTTP_METRICS, MetricsController
from web.openapi_errors import document_errors
from web.pages import PagesController
from web.public_api import PublicApiController, openapi_config, rate_limits
from web.queues import PresenceController, QueueAdminController, SupervisorController, TeamController
from web.quick_replies import QuickReplyController
from web.rate_limits import RateLimits
from web.security_headers import add_security_headers
from web.tags import TagController
from web.text_guard import StorableTextMiddleware
from web.ticket_assist import AssistController
from web.tickets import ConversationController, TicketController
from web.two_factor import TwoFactorController
from web.users_admin import UserAdminController
from web.webchat import WebChatController

WEB_DIR = Path(__file__).resolve().parent.parent / "web"


def channels_backend(settings: Settings) -> ChannelsBackend:
    """In process by default; with ATENDE_REDIS_URL, Redis pub/sub, so that an event raised in one
    web process reaches the inboxes and chats connected to the others."""
    if settings.redis_url:
        return ResilientPubSubBackend(settings.redis_url)
    return MemoryChannelsBackend(history=0)


def rate_limit_store(settings: Settings) -> Store:
    """Counts shared by every web process through Redis when there is one; else in process."""
    if settings.redis_url:
        return RedisStore.with_client(settings.redis_url, namespace="atende-rate-limit")
    return MemoryStore()


def provide_channel_host(state: State) -> ChannelHost:
    """What channels' webhooks reach the pipeline through (``channels.plugin.ChannelHost``)."""
    host: ChannelHost = state.channel_host
    return host


def provide_channel_lifecycles(state: State) -> ChannelLifecycles:
    """The channels' pollers and sessions, for the admin adding, changing and pairing channels."""
    lifecycles: ChannelLifecycles = state.channel_lifecycles
    return lifecycles


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()
    configure_tracing(settings, "atende-web")  # nothing unless ATENDE_OTEL_ENDPOINT is set
    secret_key = settings.resolved_secret_key()
    channels = ChannelsPlugin(backend=channels_backend(settings), arbitrary_channels_allowed=True)
    jwt_auth = build_jwt_auth(secret_key)

    @asynccontextmanager
    async def services_lifespan(app: Litestar) -> AsyncIterator[None]:
        jobs = BrokerJobs()
        if settings.redis_url:
            await require_redis(settings.redis_url)
        async with open_services(settings, ChannelsPublisher(channels), jobs) as services:
            app.state.services = services
            broker.state.services = services
            await broker.startup()
            sweeping: asyncio.Task[None] | None = None
            if not settings.redis_url:  # the jobs run here: warm up, and sweep (workers do, with Redis)
                # The built-in classifier heads, before the first customer's message (cached per machine).
                await asyncio.to_thread(builtin_classifier, services.embedder)
                for message_id in await unanswered_messages(services):
                    await jobs.run_turn(message_id)
                # Outbound messages and webhook events a stopped process left unsent (core.outbox).
                await outbox_sweep(services.database.sessionmaker, jobs)
                await hand_out_replays(services.database.sessionmaker, jobs)  # asked for while stopped
                await sweep_uploads(services, jobs, datetime.timedelta(0), datetime.timedelta(0))  # cut short
                sweeping = asyncio.create_task(sweep_periodically(services, jobs))
            host = PipelineHost(services)
            lifecycles = ChannelLifecycles(host, services.adapters)
            app.state.channel_host, app.state.channel_lifecycles = host, lifecycles
            await lifecycles.start()  # Telegram pollers, WhatsApp sessions…
            try:
                yield
            finally:
                if sweeping:
                    sweeping.cancel()
                    await asyncio.gather(sweeping, return_exceptions=True)
                await lifecycles.stop()
                await stop_waiting_reports()
                await broker.shutdown()

    return Litestar(
        route_handlers=[
            HealthController,
            PagesController,
            AuthController,
            TwoFactorController,
            WebChatController,
            TicketController,
            ConversationController,
            InboxEventsController,
            Router(
                path="/",
                route_handlers=[KnowledgeController],
                request_max_body_size=upload_body_limit(settings.max_upload_bytes),
            ),
            AdminController,
            EvalRunController,
            *(handler for plugin in PLUGINS for handler in plugin.route_handlers),
            IntegrationsController,
            FailedJobsController,
            Router(
                path="/",
                route_handlers=[PublicApiController],
                middleware=rate_limits(settings.public_api_per_minute),
            ),
            ChannelAdminController,
            MediaController,
            QueueAdminController,
            UserAdminController,
            PresenceController,
            TeamController,
            SupervisorController,
            QuickReplyController,
            TagController,
            ContactPanelController,
            AssistController,
            MetricsController,
            create_static_files_router(
                path="/static", directories=[WEB_DIR / "static"], opt={"exclude_from_auth": True}
            ),
        ],
        plugins=[channels],
        middleware=[HTTP_METRICS.middleware, StorableTextMiddleware()],
        before_send=[add_security_headers, name_allowed_methods],
        lifespan=[services_lifespan],
        on_startup=[document_errors],
        on_app_init=[jwt_auth.on_app_init],
        dependencies={
            "services": Provide(provide_services, sync_to_thread=False),
            "db_session": Provide(provide_db_session),
            "channel_host": Provide(provide_channel_host, sync_to_thread=False),
            "channel_lifecycles": Provide(provide_channel_lifecycles, sync_to_thread=False),
        },
        exception_handlers=exception_handlers,
        after_exception=[log_server_fault],
        openapi_config=openapi_config(),
        template_config=TemplateConfig(directory=WEB_DIR / "templates", engine=JinjaTemplateEngine),
        state=State(
            {
                "secret_key": secret_key,
                "jwt_auth": jwt_auth,
                "metrics_token": settings.metrics_token,
                "rate_limits": RateLimits(settings.redis_url),
            }
        ),
        stores={"rate_limit": rate_limit_store(settings)},
    )
