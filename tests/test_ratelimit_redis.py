"""The Redis-backed run rate limit: one window per key shared by every process, fail-open when Redis
is gone (a real, private redis-server)."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from questlab.web.ratelimit import RateLimiter, RedisRateLimiter
from tests.services import RedisServer, free_port

pytestmark = pytest.mark.anyio


async def test_two_limiters_on_one_redis_share_the_window() -> None:
    server = RedisServer()
    server.start()
    try:
        first_client = aioredis.Redis.from_url(server.url)
        second_client = aioredis.Redis.from_url(server.url)
        first = RedisRateLimiter(first_client, 3, 60.0, "t:")
        second = RedisRateLimiter(second_client, 3, 60.0, "t:")  # another web process
        assert [await first.take("me"), await second.take("me"), await first.take("me")] == [0.0] * 3
        wait = await second.take("me")
        assert 0 < wait <= 60
        assert await first.take("someone else") == 0.0
        assert await first_client.ttl("t:me") > 0  # the window cleans itself up
        await first_client.aclose()
        await second_client.aclose()
    finally:
        server.stop()


async def test_a_short_window_frees_up_again() -> None:
    import asyncio

    server = RedisServer()
    server.start()
    try:
        client = aioredis.Redis.from_url(server.url)
        limiter = RedisRateLimiter(client, 1, 0.5, "t:")
        assert await limiter.take("k") == 0.0
        assert await limiter.take("k") > 0
        await asyncio.sleep(0.6)
        assert await limiter.take("k") == 0.0
        await client.aclose()
    finally:
        server.stop()


async def test_redis_gone_allows_and_warns(caplog: pytest.LogCaptureFixture) -> None:
    client = aioredis.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.5)
    limiter = RedisRateLimiter(client, 1, 60.0)
    assert await limiter.take("k") == 0.0 and await limiter.take("k") == 0.0
    assert "Redis cannot be reached" in caplog.text
    await client.aclose()


async def test_the_memory_limiter_answers_the_same_way() -> None:
    limiter = RateLimiter(1, 60.0)
    assert await limiter.take("k") == 0.0 and await limiter.take("k") > 0
