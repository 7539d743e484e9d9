"""How a reader of Redis waits while Redis is away: doubling waits, back to the first after a success.
Shared by the job stream (``runtime.redis_stream``) and the real-time fan-out (``runtime.redis_channels``)."""

from __future__ import annotations

import asyncio

import structlog

log = structlog.get_logger(__name__)

FIRST_WAIT_SECONDS, LONGEST_WAIT_SECONDS = 0.5, 5.0


class RedisBackoff:
    def __init__(self) -> None:
        self.wait = FIRST_WAIT_SECONDS

    def succeeded(self) -> None:
        self.wait = FIRST_WAIT_SECONDS

    async def after(self, event: str, exc: BaseException) -> None:
        """Log the failure (its kind, never its message: it may name the URL) and wait before the next try."""
        log.warning(event, error=type(exc).__name__, retry_in=self.wait)
        await asyncio.sleep(self.wait)
        self.wait = min(LONGEST_WAIT_SECONDS, self.wait * 2)
