"""Redis, when configured, must answer at start: a process that would only fail at its first job is
worse than one that says at once which URL it cannot reach."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from redis.asyncio import Redis

from core.errors import AtendeError, ErrorCode

CONNECT_SECONDS = 5.0


class RedisUnreachableError(AtendeError):
    code = ErrorCode.UNAVAILABLE


def shown(url: str) -> str:
    """The URL without its password, fit for an error message and a log."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


async def require_redis(url: str) -> None:
    client: Redis = Redis.from_url(
        url, socket_connect_timeout=CONNECT_SECONDS, socket_timeout=CONNECT_SECONDS
    )
    try:
        await client.ping()
    except Exception as exc:
        raise RedisUnreachableError(
            f"ATENDE_REDIS_URL {shown(url)} cannot be reached: {type(exc).__name__}: {exc}"
        ) from exc
    finally:
        await client.aclose()
