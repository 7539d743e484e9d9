"""Counted allowances: refused once used up, with the wait; shared by web processes through Redis."""

from __future__ import annotations

import pytest

from tests.runtime.conftest import RedisServer
from web.rate_limits import Allowance, RateLimits, TooManyRequests

THREE_A_MINUTE = Allowance("test-posts", "3/minute", "too many posts")


async def test_an_allowance_refuses_the_fourth_event_with_the_wait() -> None:
    limits = RateLimits(None)
    for _ in range(3):
        await limits.spend(THREE_A_MINUTE, "alice")
    with pytest.raises(TooManyRequests) as refused:
        await limits.spend(THREE_A_MINUTE, "alice")
    assert refused.value.status_code == 429
    assert refused.value.headers is not None
    assert 1 <= int(refused.value.headers["Retry-After"]) <= 60
    assert "too many posts" in refused.value.detail
    await limits.spend(THREE_A_MINUTE, "bob")  # another caller's count is their own


async def test_forget_starts_a_key_afresh_and_check_counts_nothing() -> None:
    limits = RateLimits(None)
    for _ in range(5):
        await limits.check(THREE_A_MINUTE, "carol")
    for _ in range(3):
        await limits.count(THREE_A_MINUTE, "carol")
    assert await limits.retry_after(THREE_A_MINUTE, "carol")
    await limits.forget(THREE_A_MINUTE, "carol")
    assert await limits.retry_after(THREE_A_MINUTE, "carol") is None


async def test_two_web_processes_share_the_counts_through_redis(redis_url: str) -> None:
    first, second = RateLimits(redis_url), RateLimits(redis_url)
    await first.count(THREE_A_MINUTE, "dave")
    await second.count(THREE_A_MINUTE, "dave")
    await first.count(THREE_A_MINUTE, "dave")
    with pytest.raises(TooManyRequests):
        await second.check(THREE_A_MINUTE, "dave")
    assert await first.retry_after(THREE_A_MINUTE, "erin") is None


async def test_with_redis_away_nothing_is_refused(redis_server: RedisServer) -> None:
    limits = RateLimits(redis_server.url)
    await limits.count(THREE_A_MINUTE, "frank")
    redis_server.stop()
    for _ in range(5):  # a customer's message and a team's login outrank the limit while Redis is down
        await limits.spend(THREE_A_MINUTE, "frank")
    await limits.check(THREE_A_MINUTE, "frank")
    await limits.forget(THREE_A_MINUTE, "frank")
