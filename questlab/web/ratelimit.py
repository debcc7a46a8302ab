"""A per-visitor rate limit kept in memory (sliding window of request times).

Good for one server process; behind several processes each keeps its own
window, so the effective limit is multiplied by the process count.
"""

from __future__ import annotations

import time
from collections import deque

from starlette.requests import Request


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


def visitor_key(request: Request) -> str:
    """Identify a visitor: the session cookie when signed in, else the CSRF cookie, else the address."""
    for cookie in ("questlab_session", "questlab_csrf"):
        value = request.cookies.get(cookie)
        if value:
            return f"{cookie}:{value}"
    return f"ip:{request.client.host if request.client else 'unknown'}"
