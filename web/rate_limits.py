"""Counted allowances for things one caller does (failed logins, web chat posts): a moving window per
key, shared by every web process through Redis when ``ATENDE_REDIS_URL`` is set, else kept in process.

Built on the ``limits`` library (its moving window is one atomic script in Redis). A refusal is a 429
with ``Retry-After``, the seconds until the oldest counted event leaves the window. The public API's
request limits stay on Litestar's rate-limit middleware (``web.public_api.rate_limits``); this is for
limits a handler decides to count, such as only the failed attempts.

With Redis away nothing is counted or refused (one warning line per call): a customer's message and a
team's login outrank the limits for the seconds Redis is down, and every web process would otherwise
answer 500s.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import structlog
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from litestar.exceptions import HTTPException
from litestar.status_codes import HTTP_429_TOO_MANY_REQUESTS

log = structlog.get_logger(__name__)


class TooManyRequests(HTTPException):
    status_code = HTTP_429_TOO_MANY_REQUESTS


@dataclass(frozen=True)
class Allowance:
    """``amount`` events per window for one kind of caller, e.g. ``Allowance("login-account", "5/5 minutes")``;
    ``what`` names it in the refusal ("too many failed logins for this account")."""

    name: str
    rate: str
    what: str

    @property
    def item(self) -> RateLimitItem:
        return parse(self.rate)


class RateLimits:
    """Every allowance's counts, in one storage."""

    def __init__(self, redis_url: str | None) -> None:
        storage: Storage = (
            RedisStorage(
                f"async+{redis_url}",
                wrap_exceptions=True,
                implementation="redispy",
                key_prefix="atende-limits",
            )
            if redis_url
            else MemoryStorage()
        )
        self._limiter = MovingWindowRateLimiter(storage)

    async def retry_after(self, allowance: Allowance, key: str) -> int | None:
        """Seconds to wait when ``key`` has used its allowance up, else None; counts nothing."""
        try:
            if await self._limiter.test(allowance.item, allowance.name, key):
                return None
            stats = await self._limiter.get_window_stats(allowance.item, allowance.name, key)
        except StorageError:
            log.warning("rate_limits.unchecked", allowance=allowance.name)
            return None
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def check(self, allowance: Allowance, key: str) -> None:
        """Refuse with a 429 when ``key`` has used its allowance up; counts nothing."""
        wait = await self.retry_after(allowance, key)
        if wait is not None:
            raise TooManyRequests(
                detail=f"{allowance.what}; try again in {wait} s", headers={"Retry-After": str(wait)}
            )

    async def count(self, allowance: Allowance, key: str) -> None:
        """Count one event (a failed login, say) against ``key``."""
        await self._hit(allowance, key)

    async def spend(self, allowance: Allowance, key: str) -> None:
        """Count one event, refusing with a 429 if the allowance was already used up."""
        if not await self._hit(allowance, key):
            await self.check(allowance, key)

    async def forget(self, allowance: Allowance, key: str) -> None:
        """Start ``key`` afresh (an account after a successful login)."""
        try:
            await self._limiter.clear(allowance.item, allowance.name, key)
        except StorageError:
            log.warning("rate_limits.unchecked", allowance=allowance.name)

    async def _hit(self, allowance: Allowance, key: str) -> bool:
        try:
            return await self._limiter.hit(allowance.item, allowance.name, key)
        except StorageError:
            log.warning("rate_limits.unchecked", allowance=allowance.name)
            return True
