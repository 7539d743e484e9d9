"""One way to get ready services outside a request: jobs, the CLI and the app's lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from agents.graph import AgentGraph, build_graph
from agents.tenant_settings import close_llm_providers
from channels.base import ChannelAdapter, Publisher
from channels.media_store import MediaStore, media_store_for
from channels.telegram import TelegramAdapter
from channels.webchat import WebChatAdapter
from channels.whatsapp_cloud import WhatsAppCloudAdapter
from channels.whatsapp_neonize import NeonizeAdapter
from conversations.jobs import Jobs, NoJobs
from core.database import Database
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
    jobs: Jobs
    """Bounds agent turns at once (settings.turn_concurrency): each holds a connection while it runs."""

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
        telegram = TelegramAdapter(media)
        whatsapp_cloud = WhatsAppCloudAdapter(media)
        whatsapp_neonize = NeonizeAdapter(settings.data_dir, media)
        try:
            checkpointer = AsyncPostgresSaver(pool)  # type: ignore[arg-type]
            await checkpointer.setup()
            yield Services(
                settings=settings,
                database=database,
                graph=build_graph(checkpointer),
                publisher=publisher,
                media=media,
                adapters={
                    "webchat": WebChatAdapter(publisher),
                    "telegram": telegram,
                    "whatsapp-cloud": whatsapp_cloud,
                    "whatsapp-neonize": whatsapp_neonize,
                },
                turn_slots=asyncio.Semaphore(max(1, settings.turn_concurrency)),
                jobs=jobs or NoJobs(),
            )
        finally:
            await telegram.close()
            await whatsapp_cloud.close()
            await whatsapp_neonize.close()
            await close_llm_providers()
            await pool.close()
