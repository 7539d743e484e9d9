"""Dependencies handed to handlers: the ready services and a database session per request."""

from __future__ import annotations

from collections.abc import AsyncIterator

from litestar.datastructures import State
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.services import Services


def provide_services(state: State) -> Services:
    services: Services = state.services
    return services


async def provide_db_session(state: State) -> AsyncIterator[AsyncSession]:
    """A session per request; handlers commit what they change (and then notify)."""
    services: Services = state.services
    async with services.database.sessionmaker() as session:
        yield session
