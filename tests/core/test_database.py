"""Pooled connections: one the server dropped while it sat idle, or closed (it stopped or restarted), is
replaced before anyone uses it."""

from __future__ import annotations

import asyncio

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


async def test_a_connection_the_server_closed_is_replaced_at_once_without_a_ping(services: Services) -> None:
    engine = create_async_engine(sqlalchemy_url(services.database.url), pool_size=1, max_overflow=0)
    ping_idle_connections(engine)  # idle for less than PING_IDLE_SECONDS: no ping would catch it
    try:
        async with engine.connect() as connection:
            closed = await connection.scalar(text("SELECT pg_backend_pid()"))
            driver = (await connection.get_raw_connection()).driver_connection
            assert driver is not None
            seen_closed = asyncio.Event()
            driver.add_termination_listener(lambda _: seen_closed.set())
        async with services.database.sessionmaker() as admin:
            assert await admin.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": closed})
        await seen_closed.wait()  # the client has seen the server close it

        async with engine.connect() as connection:
            replaced = await connection.scalar(text("SELECT pg_backend_pid()"))

        assert replaced != closed
    finally:
        await engine.dispose()
