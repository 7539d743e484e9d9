"""A request that meets the database away gets a 503 with ``Retry-After`` and leaves one log line, with
no statement, parameter or message body in it; any other database error stays a 500."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from litestar import Litestar, post
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from structlog.testing import capture_logs

from conversations.services import Services
from core.database import open_database
from core.settings import Settings
from web.error_log import log_server_fault
from web.errors import exception_handlers

SECRET = "meu CPF é 123.456.789-09"


@pytest.fixture
async def client(services: Services, tmp_path: Path) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """An app with Atende's error handlers, whose routes run statements that carry ``SECRET`` (each on
    its own engine, made as the app makes its own: the test client serves on a loop of its own)."""
    suite_database = Settings(data_dir=tmp_path, database_url=services.database.url)

    @post("/lost")
    async def lost(data: dict[str, str]) -> None:
        """The server ends the connection in the middle of the statement (as a restart does)."""
        async with open_database(suite_database) as database, database.sessionmaker() as session:
            query = "SELECT pg_terminate_backend(pg_backend_pid()), CAST(:text AS text)"
            await session.execute(text(query), {"text": data["text"]})

    @post("/unreachable")
    async def unreachable(data: dict[str, str]) -> None:
        """Nothing listens where the database should be."""
        nowhere = Settings(data_dir=tmp_path, database_url="postgresql://atende@127.0.0.1:9/atende")
        async with open_database(nowhere) as away, away.sessionmaker() as session:
            await session.execute(text("SELECT CAST(:text AS text)"), {"text": data["text"]})

    @post("/wrong")
    async def wrong(data: dict[str, str]) -> None:
        """A statement that fails on its own: not an outage."""
        async with open_database(suite_database) as database, database.sessionmaker() as session:
            await session.execute(text("SELECT CAST(:text AS integer)"), {"text": data["text"]})

    app = Litestar(
        [lost, unreachable, wrong], exception_handlers=exception_handlers, after_exception=[log_server_fault]
    )
    async with AsyncTestClient(app) as test_client:
        yield test_client


@pytest.mark.parametrize("route", ["/lost", "/unreachable"])
async def test_the_database_away_is_a_503_with_retry_after_and_one_log_line_without_the_statement(
    client: AsyncTestClient[Litestar], route: str
) -> None:
    with capture_logs() as logs:
        response = await client.post(route, json={"text": SECRET})

    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    assert "temporarily unavailable" in response.json()["detail"]
    [line] = logs
    assert line["event"] == "database.unavailable" and line["path"] == route
    assert SECRET not in str(line) and "SELECT" not in str(line)
    assert SECRET not in response.text


async def test_another_database_error_stays_a_500_and_is_logged_once_with_its_traceback(
    client: AsyncTestClient[Litestar],
) -> None:
    with capture_logs() as logs:
        response = await client.post("/wrong", json={"text": SECRET})

    assert response.status_code == 500
    assert "Retry-After" not in response.headers
    [line] = logs
    # With its traceback, for whoever fixes it; the driver's message quotes the value, which the log's
    # processors mask as they write the line (tests/web/test_error_logs.py).
    assert line["event"] == "request.failed" and line["exc_info"]
    assert SECRET not in response.text
