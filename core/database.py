"""Database engine and sessions; the embedded server when no URL is configured."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError, DisconnectionError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
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
    """Ping a connection on checkout only when it sat idle in the pool for ``PING_IDLE_SECONDS``, and
    replace one the server already closed.

    ``pool_pre_ping`` pings on every checkout: with asyncpg that is three round trips (BEGIN, a
    statement, ROLLBACK) before each session's first query, a third of a turn's round trips. A
    connection the server closed (it stopped or restarted) is known closed without a round trip, and is
    replaced before anyone uses it; one idle long enough for the server to have dropped it unseen (a
    network cut) is pinged. A connection that dies while busy fails its statement, and SQLAlchemy then
    discards every pooled connection older than it.
    """

    @event.listens_for(engine.sync_engine.pool, "checkin")
    def returned(dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine.pool, "checkout")
    def handed_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        idle_since = record.info.pop("idle_since", None)
        if dbapi_connection.driver_connection.is_closed():
            raise DisconnectionError("the server closed the pooled connection")
        if idle_since is None or time.monotonic() - idle_since < PING_IDLE_SECONDS:
            return
        try:
            dbapi_connection.ping()
        except Exception as exc:
            raise DisconnectionError("the pooled connection was dropped while idle") from exc


CONNECT_SECONDS = 5.0
"""A server that has not accepted a connection within this long is taken to be away (asyncpg would wait
60 s, and every request with it)."""
CONNECTION_LOST_SQLSTATES = ("08", "57P01", "57P02", "57P03")
"""Connection exceptions (class 08), and the server shutting down, crashed, or not yet accepting."""


class DatabaseUnreachableError(ConnectionError):
    """No connection to PostgreSQL could be opened: refused, no socket, timed out. Still the
    ``ConnectionError`` the driver raised, so code that catches ``OSError`` keeps catching it."""


def name_unreachable_database(engine: AsyncEngine) -> None:
    """A failed connect raises ``DatabaseUnreachableError``: the driver's bare ``OSError`` (no socket,
    refused, timed out) cannot be told from a file that is missing or a disk that is full."""

    @event.listens_for(engine.sync_engine, "do_connect")
    def connect(dialect: Any, record: Any, cargs: Any, cparams: Any) -> Any:
        try:
            return dialect.connect(*cargs, **cparams)
        except OSError as exc:  # asyncio's TimeoutError is one too
            raise DatabaseUnreachableError(f"cannot connect to PostgreSQL: {type(exc).__name__}") from exc


def database_unreachable(exc: BaseException) -> bool:
    """Whether ``exc``, or an error it was raised from, says PostgreSQL cannot be reached now rather than
    that a statement is wrong: no connection could be opened, none came free in time, or the one in use
    was lost. Whoever met it (a request, a job) may well succeed a few seconds later.

    Not every ``OperationalError`` or ``InterfaceError``: a cancelled statement or a driver misused are
    faults of their own. What tells is the connection: SQLAlchemy invalidated it, the SQLSTATE is a
    connection one, or psycopg (the checkpointer's pool) failed on the client side, with no SQLSTATE:
    refused, lost, or no pooled connection in time."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, DatabaseUnreachableError | PoolTimeoutError):
            return True
        if isinstance(seen, DBAPIError) and seen.connection_invalidated:
            return True
        if isinstance(seen, psycopg.OperationalError) and seen.sqlstate is None:
            return True
        sqlstate = getattr(seen, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate.startswith(CONNECTION_LOST_SQLSTATES):
            return True
        seen = seen.orig if isinstance(seen, DBAPIError) else seen.__cause__
    return False


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
    engine = create_async_engine(
        sqlalchemy_url(url),
        pool_size=10,
        max_overflow=10,
        hide_parameters=True,
        connect_args={"timeout": CONNECT_SECONDS},
    )
    ping_idle_connections(engine)
    name_unreachable_database(engine)
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
