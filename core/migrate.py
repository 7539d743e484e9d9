"""Alembic migrations, run on start and by ``atende db upgrade``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.database import Database, open_database
from core.logging import configure_logging
from core.settings import Settings

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


async def upgrade_database(engine: AsyncEngine) -> None:
    """Bring the schema to the newest revision; an advisory lock keeps concurrent starts in line."""

    def _upgrade(connection: Connection) -> None:
        connection.execute(text("SELECT pg_advisory_xact_lock(7411)"))
        command.upgrade(alembic_config(connection), "head")

    async with engine.begin() as conn:
        await conn.run_sync(_upgrade)


@asynccontextmanager
async def migrated_database(settings: Settings) -> AsyncIterator[Database]:
    """The database at the newest schema, and nothing else: what commands that only read and write
    rows need (the agent graph, channels and models load with ``conversations.services``)."""
    configure_logging(settings.log_level)
    async with open_database(settings) as database:
        await upgrade_database(database.engine)
        yield database
