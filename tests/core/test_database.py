"""Pooled connections: one the server dropped while it sat idle is replaced before anyone uses it."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from conversations.services import Services
from core import database
from core.database import ping_idle_connections, sqlalchemy_url


async def test_a_connection_dropped_while_idle_is_replaced_and_the_next_query_succeeds(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database, "PING_IDLE_SECONDS", 0.0)
    engine = create_async_engine(sqlalchemy_url(services.database.url), pool_size=1, max_overflow=0)
    ping_idle_connections(engine)
    try:
        async with engine.connect() as connection:
            dropped = await connection.scalar(text("SELECT pg_backend_pid()"))
        async with services.database.sessionmaker() as admin:
            assert await admin.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": dropped})

        async with engine.connect() as connection:
            replaced = await connection.scalar(text("SELECT pg_backend_pid()"))

        assert replaced != dropped
    finally:
        await engine.dispose()
