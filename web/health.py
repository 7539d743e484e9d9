"""Liveness and readiness, for a load balancer or an orchestrator.

``/healthz``: the process is up (200 whatever else is down: restarting it would not bring a database
back). ``/readyz``: whether it can serve now, each check with its status: the database answers, Redis
answers when one is configured, and the embedding model is loaded where this process runs the jobs
(a web process beside Redis workers loads it only if a manager searches the knowledge base).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from litestar import Controller, Response, get
from redis.asyncio import Redis
from sqlalchemy import text

from conversations.services import Services
from knowledge.embeddings import embedder_loaded

CHECK_SECONDS = 2.0
"""A dependency that has not answered within this long counts as down."""
OK = "ok"


async def _database(services: Services) -> None:
    async with services.database.reads() as session:
        await session.execute(text("SELECT 1"))


async def _redis(url: str) -> None:
    client: Redis = Redis.from_url(url, socket_connect_timeout=CHECK_SECONDS, socket_timeout=CHECK_SECONDS)
    try:
        await client.ping()
    finally:
        await client.aclose()


async def _status(check: Awaitable[None]) -> str:
    """``ok``, or why not (the error's type: no URL, host or password in it)."""
    try:
        async with asyncio.timeout(CHECK_SECONDS):
            await check
    except TimeoutError:
        return f"no answer within {CHECK_SECONDS:g} s"
    except Exception as exc:
        return f"unavailable: {type(exc).__name__}"
    return OK


async def readiness(services: Services) -> dict[str, str]:
    """Each check's status; the process is ready when every one is ``ok``."""
    settings = services.settings
    checks = {"database": _status(_database(services))}
    if settings.redis_url:
        checks["redis"] = _status(_redis(settings.redis_url))
    statuses = dict(zip(checks, await asyncio.gather(*checks.values()), strict=True))
    if not settings.redis_url:  # this process runs the turns, which embed every message
        statuses["embedding_model"] = OK if embedder_loaded(settings.embedding_model) else "not loaded"
    return statuses


class HealthController(Controller):
    include_in_schema = False
    opt = {"exclude_from_auth": True}  # noqa: RUF012 - probes carry no login

    @get("/healthz")
    async def live(self) -> dict[str, str]:
        return {"status": "ok"}

    @get("/readyz")
    async def ready(self, services: Services) -> Response[dict[str, object]]:
        checks = await readiness(services)
        ready = all(status == OK for status in checks.values())
        body: dict[str, object] = {"status": "ready" if ready else "unavailable", "checks": checks}
        return Response(body, status_code=200 if ready else 503)
