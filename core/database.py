"""Database engine and sessions; the embedded server when no URL is configured."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from core.embedded_postgres import EmbeddedPostgres
from core.errors import ConflictError
from core.settings import Settings


def sqlalchemy_url(url: str) -> str:
    """The asyncpg flavour of a plain ``postgresql://`` URL."""
    for prefix in ("postgresql+asyncpg://", "postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ValueError(
        f"ATENDE_DATABASE_URL must be a postgresql:// URL, got scheme of {url.split(':', 1)[0]!r}"
    )


def libpq_url(url: str) -> str:
    """The plain libpq URL (for psycopg, used by the LangGraph checkpointer)."""
    return "postgresql://" + sqlalchemy_url(url)[len("postgresql+asyncpg://") :]


PING_IDLE_SECONDS = 10.0
"""A pooled connection idle longer than this is pinged before it is handed out again."""


def ping_idle_connections(engine: AsyncEngine) -> None:
    """Ping a connection on checkout only when it sat idle in the pool for ``PING_IDLE_SECONDS``.

    ``pool_pre_ping`` pings on every checkout: with asyncpg that is three round trips (BEGIN, a
    statement, ROLLBACK) before each session's first query, a third of a turn's round trips. A
    connection returned moments ago is alive; one idle long enough for the server to have restarted or
    dropped it is checked, and a dead one is replaced before anyone uses it. A connection that dies
    while busy fails its statement, and SQLAlchemy then discards every pooled connection older than it.
    """

    @event.listens_for(engine.sync_engine.pool, "checkin")
    def returned(dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine.pool, "checkout")
    def handed_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None or time.monotonic() - idle_since < PING_IDLE_SECONDS:
            return
        try:
            dbapi_connection.ping()
        except Exception as exc:
            raise DisconnectionError("the pooled connection was dropped while idle") from exc


@dataclass
class Database:
    url: str
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    reads: async_sessionmaker[AsyncSession]
    """Sessions that only read, each statement on its own (autocommit): no BEGIN and ROLLBACK round trips
    around them. Never for writes, locks, ``SET LOCAL``, or reads that must see one snapshot."""


@asynccontextmanager
async def open_database(settings: Settings) -> AsyncIterator[Database]:
    """Connect to the configured database, starting the embedded one when none is configured."""
    embedded = EmbeddedPostgres(settings.data_dir) if settings.uses_embedded_database else None
    url = embedded.url if embedded else str(settings.database_url)
    # hide_parameters: a failed statement's error (logged by whoever catches it) names no values, which
    # can be messages' texts.
    engine = create_async_engine(sqlalchemy_url(url), pool_size=10, max_overflow=10, hide_parameters=True)
    ping_idle_connections(engine)
    try:
        yield Database(
            url=libpq_url(url),
            engine=engine,
            sessionmaker=async_sessionmaker(engine, expire_on_commit=False),
            reads=async_sessionmaker(
                engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False
            ),
        )
    finally:
        await engine.dispose()
        if embedded:
            embedded.close()


@asynccontextmanager
async def unless_taken(session: AsyncSession, field: str, reason: str) -> AsyncIterator[None]:
    """The block's changes in a savepoint, flushed at its end. Where they break a unique constraint (a
    name already taken), the savepoint alone is undone and a ``ConflictError`` on ``field`` says why."""
    try:
        async with session.begin_nested():
            yield
            await session.flush()
    except IntegrityError as exc:
        raise ConflictError(f"{field}: {reason}", field=field) from exc
