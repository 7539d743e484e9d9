"""Real-time fan-out through Redis pub/sub that outlives a Redis going away. An event published
meanwhile is lost (logged): the pages and inboxes show what is stored when they load again, and no
customer's message or reply depends on it. Listening resumes, subscribed again, once Redis is back;
without this, Litestar's channels plugin would stop publishing and listening for the process's life."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Iterable
from typing import Any

import structlog
from litestar.channels.backends.redis import RedisChannelsPubSubBackend
from redis.asyncio import Redis
from redis.exceptions import RedisError

from runtime.redis_backoff import RedisBackoff

log = structlog.get_logger(__name__)

ANSWER_SECONDS = 5.0
"""A publish to a Redis that does not answer gives up after this long."""


class ResilientPubSubBackend(RedisChannelsPubSubBackend):
    def __init__(self, redis_url: str) -> None:
        redis = Redis.from_url(redis_url, socket_connect_timeout=ANSWER_SECONDS)
        super().__init__(redis=redis)

    async def publish(self, data: bytes, channels: Iterable[str]) -> None:
        try:
            await asyncio.wait_for(super().publish(data, channels), ANSWER_SECONDS)
        except (RedisError, TimeoutError) as exc:
            log.warning("realtime.publish_failed", error=type(exc).__name__)

    async def stream_events(self) -> AsyncGenerator[tuple[str, Any], None]:
        backoff = RedisBackoff()
        while True:
            try:
                async for event in super().stream_events():
                    backoff.succeeded()
                    yield event
            except RedisError as exc:
                await backoff.after("realtime.listen_failed", exc)
