"""One way to get ready services outside a request: jobs, the CLI and the app's lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from agents.checkpoint import AgentCheckpointer
from agents.graph import AgentGraph, build_graph
from agents.tenant_settings import close_llm_providers
from channels.base import ChannelAdapter, ClosingAdapter, Publisher
from channels.media_store import MediaStore, media_store_for
from channels.plugin import AdapterResources
from channels.plugins import PLUGINS
from conversations.jobs import Jobs, NoJobs
from core.database import Database
from core.handover import Handover, handover
from core.leader import Leadership, leadership
from core.migrate import migrated_database
from core.realtime import NullPublisher
from core.settings import Settings
from knowledge.embeddings import Embedder, get_embedder
from knowledge.rerank import Reranker, get_reranker


@dataclass
class Services:
    settings: Settings
    database: Database
    graph: AgentGraph
    publisher: Publisher
    media: MediaStore
    adapters: dict[str, ChannelAdapter]
    turn_slots: asyncio.Semaphore
    """Bounds agent turns in progress at once (settings.turn_concurrency); a waiting turn holds nothing."""
    jobs: Jobs
    leadership: Leadership
    """Work one process of the cluster does at a time (pollers, sessions, the sweep): ``core.leader``."""
    handover: Handover | None = None
    """With Redis: jobs handed to the process that holds a channel's session (``core.handover``)."""

    @property
    def reranker(self) -> Reranker | None:
        """The configured cross-encoder, loaded on first use; None when none is configured."""
        name = self.settings.reranker_model
        return get_reranker(name) if name else None

    @property
    def embedder(self) -> Embedder:
        """Loaded on first use, so commands that never embed start fast."""
        return get_embedder(self.settings.embedding_model)


@asynccontextmanager
async def open_services(
    settings: Settings, publisher: Publisher | None = None, jobs: Jobs | None = None
) -> AsyncIterator[Services]:
    """Database (migrated), embedding model, and the agent graph with its PostgreSQL checkpointer; jobs go
    to ``jobs``, which the application shell provides (none for commands that enqueue nothing)."""
    publisher = publisher or NullPublisher()
    async with migrated_database(settings) as database:
        pool = AsyncConnectionPool(
            database.url,
            min_size=1,
            max_size=10,
            open=False,
            kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
        )
        await pool.open()
        media = media_store_for(settings.media_store, settings.media_dir, settings.s3_endpoint_url)
        resources = AdapterResources(
            media=media,
            publisher=publisher,
            data_dir=settings.data_dir,
            allow_private_networks=settings.allow_private_networks,
        )
        adapters = {plugin.type: plugin.make_adapter(resources) for plugin in PLUGINS}
        leaders = leadership(settings.redis_url, settings.leader_lease_seconds)
        handing = handover(settings.redis_url)
        try:
            checkpointer = AgentCheckpointer(pool)  # type: ignore[arg-type]
            await checkpointer.setup()
            yield Services(
                settings=settings,
                database=database,
                graph=build_graph(checkpointer),
                publisher=publisher,
                media=media,
                adapters=adapters,
                turn_slots=asyncio.Semaphore(max(1, settings.turn_concurrency)),
                jobs=jobs or NoJobs(),
                leadership=leaders,
                handover=handing,
            )
        finally:
            for adapter in adapters.values():
                if isinstance(adapter, ClosingAdapter):
                    await adapter.close()
            await close_llm_providers()
            await leaders.aclose()
            if handing is not None:
                await handing.aclose()
            await pool.close()
