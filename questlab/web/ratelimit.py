"""Per-visitor rate limits: sliding windows of request times, in memory or in Redis.

The in-memory :class:`RateLimiter` is good for one server process; behind several processes
each would keep its own window, so the effective limit would be multiplied by the process
count. With ``QUESTLAB_RATE_LIMIT_STORE=redis`` every process shares one window per key in
Redis (:class:`RedisRateLimiter`), so a learner is counted once whichever process answers.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import deque
from typing import Any

from starlette.requests import Request

log = logging.getLogger("questlab.web")


class RateLimiter:
    """Allow at most ``limit`` events per ``window_s`` seconds per key.

    Args:
        limit: events allowed in a window (≥ 1).
        window_s: window length in seconds.
        max_keys: keys tracked at most; the oldest are forgotten beyond it (memory bound).
    """

    def __init__(self, limit: int, window_s: float = 60.0, max_keys: int = 100_000):
        self.limit = limit
        self.window_s = window_s
        self.max_keys = max_keys
        self._events: dict[str, deque[float]] = {}

    def hit(self, key: str, now: float | None = None) -> float:
        """Record an event for ``key``.

        Returns:
            0.0 when allowed, else the seconds to wait before the next event is allowed.
        """
        now = time.monotonic() if now is None else now
        events = self._events.get(key)
        if events is None:
            if len(self._events) >= self.max_keys:
                self._events.pop(next(iter(self._events)))
            events = self._events[key] = deque()
        while events and events[0] <= now - self.window_s:
            events.popleft()
        if len(events) >= self.limit:
            return max(0.1, events[0] + self.window_s - now)
        events.append(now)
        return 0.0

    async def take(self, key: str) -> float:
        """:meth:`hit` for callers that also use :class:`RedisRateLimiter` (same answer)."""
        return self.hit(key)


#: One sliding window per key in a sorted set scored by the Redis server's clock (one clock for
#: every web process): drop what left the window, refuse when full (answering the seconds until
#: the oldest event leaves), else record this event. Atomic: Redis runs a script at a time.
_SLIDING_WINDOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return tostring(tonumber(oldest[2]) + window - now)
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000))
return '0'
"""


class RedisRateLimiter:
    """Allow at most ``limit`` events per ``window_s`` seconds per key, counted in Redis and
    shared by every process using the same Redis and ``prefix``.

    Args:
        client: a ``redis.asyncio.Redis``.
        limit: events allowed in a window (≥ 1).
        window_s: window length in seconds.
        prefix: namespace of the keys (``questlab:rate:<name>:``).

    When Redis cannot be reached the event is allowed and a warning is logged: runs then fail or
    succeed on their own merits, and a Redis outage never locks every learner out.
    """

    def __init__(
        self, client: Any, limit: int, window_s: float = 60.0, prefix: str = "questlab:rate:"
    ) -> None:
        self.client, self.limit, self.window_s, self.prefix = client, limit, window_s, prefix
        self._script = client.register_script(_SLIDING_WINDOW)

    async def take(self, key: str) -> float:
        """Record an event for ``key``.

        Returns:
            0.0 when allowed (or when Redis cannot be reached), else the seconds to wait before the
            next event is allowed.
        """
        try:
            wait = await self._script(
                keys=[self.prefix + key], args=[self.window_s, self.limit, uuid.uuid4().hex]
            )
        except Exception as error:  # noqa: BLE001 - fail open, loudly
            log.warning("rate limit: Redis cannot be reached (%s); allowing the request", error)
            return 0.0
        return max(0.1, float(wait)) if float(wait) > 0 else 0.0


def visitor_key(request: Request) -> str:
    """Identify a visitor: the session cookie when signed in, else the CSRF cookie, else the address."""
    for cookie in ("questlab_session", "questlab_csrf"):
        value = request.cookies.get(cookie)
        if value:
            return f"{cookie}:{value}"
    return f"ip:{request.client.host if request.client else 'unknown'}"
