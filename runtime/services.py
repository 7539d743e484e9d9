"""One way to get ready services outside a request: jobs, the CLI and the app's lifespan."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool
from sqlalchemy.ext.asyncio import AsyncSession

from agents.context import AgentContext
from agents.graph import AgentGraph, build_graph
from channels.base import ChannelAdapter, Publisher
from channels.webchat import WebChatAdapter
from knowledge.embeddings import Embedder, get_embedder
from knowledge.rerank import Reranker, get_reranker
from knowledge.search import Passage
from knowledge.search import search as search_knowledge
from runtime.database import Database, open_database
from runtime.events import NullPublisher
from runtime.logging import configure_logging
from runtime.migrate import upgrade_database
from runtime.settings import Settings

SEARCH_K = 5


@dataclass
class Services:
    settings: Settings
    database: Database
    graph: AgentGraph
    publisher: Publisher
    adapters: dict[str, ChannelAdapter]

    @property
    def reranker(self) -> Reranker | None:
        """The configured cross-encoder, loaded on first use; None when none is configured."""
        name = self.settings.reranker_model
        return get_reranker(name) if name else None

    @property
    def embedder(self) -> Embedder:
        """Loaded on first use, so commands that never embed start fast."""
        return get_embedder(self.settings.embedding_model)

    def agent_context(self, session: AsyncSession, tenant_id: uuid.UUID) -> AgentContext:
        async def search(query: str) -> list[Passage]:
            return await search_knowledge(
                session, self.embedder, tenant_id, query, SEARCH_K, reranker=self.reranker
            )

        return AgentContext(search=search, embedder=self.embedder, min_relevance=self.settings.min_relevance)


@asynccontextmanager
async def open_services(settings: Settings, publisher: Publisher | None = None) -> AsyncIterator[Services]:
    """Database (migrated), embedding model, and the agent graph with its PostgreSQL checkpointer."""
    configure_logging(settings.log_level)
    publisher = publisher or NullPublisher()
    async with open_database(settings) as database:
        await upgrade_database(database.engine)
        pool = AsyncConnectionPool(
            database.url,
            min_size=1,
            max_size=10,
            open=False,
            kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
        )
        await pool.open()
        try:
            checkpointer = AsyncPostgresSaver(pool)  # type: ignore[arg-type]
            await checkpointer.setup()
            yield Services(
                settings=settings,
                database=database,
                graph=build_graph(checkpointer),
                publisher=publisher,
                adapters={"webchat": WebChatAdapter(publisher)},
            )
        finally:
            await pool.close()
