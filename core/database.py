"""Database engine and sessions; the embedded server when no URL is configured."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
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


@dataclass
class Database:
    url: str
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]


@asynccontextmanager
async def open_database(settings: Settings) -> AsyncIterator[Database]:
    """Connect to the configured database, starting the embedded one when none is configured."""
    embedded = EmbeddedPostgres(settings.data_dir) if settings.uses_embedded_database else None
    url = embedded.url if embedded else str(settings.database_url)
    # hide_parameters: a failed statement's error (logged by whoever catches it) names no values, which
    # can be messages' texts.
    engine = create_async_engine(
        sqlalchemy_url(url), pool_size=10, max_overflow=10, pool_pre_ping=True, hide_parameters=True
    )
    try:
        yield Database(
            url=libpq_url(url), engine=engine, sessionmaker=async_sessionmaker(engine, expire_on_commit=False)
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
