"""Prometheus metrics, served at ``/-/metrics`` (text exposition format).

Each app has its own registry, so tests and several apps in one process do not
mix their numbers. Requests are labelled by the matched route's path template
(``/quests/{quest_slug}/``), never by the raw URL, and every path no route
matches shares the label :data:`UNMATCHED`, so the number of series stays
bounded whatever clients ask for. docs/operators.md lists every metric.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.exceptions import HTTPException
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UNMATCHED = "unmatched"
"""The ``route`` label of requests no route matched (404s of unknown paths, slash redirects)."""
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
"""Methods kept as their own ``method`` label; any other is counted as ``other``."""
ACTIVE_WINDOW_S = 300.0
"""A learner counts as active for this long after their last signed-in request (5 minutes)."""

REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
GRADING_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60)


class ActiveLearners:
    """Signed-in learners seen in the last ``window_s`` seconds, kept in this process's memory.

    In memory, not in the database: counting them costs no database write per request (there is no
    "last seen" column to keep current) and no query per scrape, and the set holds one entry per
    learner active in the window. The price: each web process counts the learners it served. With
    several processes, ``max`` over them is a lower bound of the site's number and ``sum`` an upper
    bound (a learner served by two processes is in both); a restarted process starts from zero.

    Args:
        window_s: how long a learner stays active after their last request.
        clock: monotonic seconds (a test passes its own).
    """

    def __init__(self, window_s: float = ACTIVE_WINDOW_S, clock: Callable[[], float] = time.monotonic):
        self.window_s = window_s
        self._clock = clock
        self._last_seen: dict[int, float] = {}
        self._lock = threading.Lock()
        self._next_prune = clock() + window_s

    def seen(self, user_id: int) -> None:
        """Note a request of ``user_id`` now (the expired entries are dropped once per window)."""
        now = self._clock()
        with self._lock:
            self._last_seen[user_id] = now
            if now >= self._next_prune:
                self._prune(now)

    def count(self) -> int:
        """The number of learners seen in the last ``window_s`` seconds."""
        with self._lock:
            self._prune(self._clock())
            return len(self._last_seen)

    def _prune(self, now: float) -> None:
        oldest = now - self.window_s
        self._last_seen = {user: at for user, at in self._last_seen.items() if at > oldest}
        self._next_prune = now + self.window_s


class Metrics:
    """The metrics of one app.

    Attributes:
        requests: HTTP requests by method, route template and status
            (``questlab_http_requests_total{method,route,status}``).
        request_seconds: time to answer HTTP requests by method and route template
            (``questlab_http_request_duration_seconds{method,route}``).
        runs: code runs by result status (``questlab_runs_total{status}``).
        run_seconds: wall time of runs that reached the runner, in seconds.
        gradings: submissions by outcome (``questlab_gradings_total{outcome}``: ``pass``, ``fail``,
            ``error``, ``busy``, ``rate_limited``).
        grading_seconds: submit-to-answer time by outcome (``questlab_grading_duration_seconds``).
        pages: pages served by route name (``questlab_pages_total{page}``).
        content_errors: content problems of severity error at start-up.
        runner_slots, runner_slots_busy, runner_queue_depth: the runner's pool size, the slots running
            a program and the runs waiting for a slot, read from the runner at each scrape.
        active_learners: signed-in learners seen in the last 5 minutes (see :class:`ActiveLearners`).
        active: the set behind ``active_learners``.
    """

    def __init__(self, active: ActiveLearners | None = None) -> None:
        self.registry = registry = CollectorRegistry()
        self.active = active or ActiveLearners()
        self.requests = Counter(
            "questlab_http_requests_total",
            "HTTP requests by method, route template and status code.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.request_seconds = Histogram(
            "questlab_http_request_duration_seconds",
            "Time to answer HTTP requests in seconds, by method and route template.",
            ["method", "route"],
            buckets=REQUEST_BUCKETS,
            registry=registry,
        )
        self.runs = Counter(
            "questlab_runs_total", "Code runs by result status.", ["status"], registry=registry
        )
        self.run_seconds = Histogram(
            "questlab_run_seconds",
            "Wall time of code runs in seconds.",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=registry,
        )
        self.gradings = Counter(
            "questlab_gradings_total", "Graded submissions by outcome.", ["outcome"], registry=registry
        )
        self.grading_seconds = Histogram(
            "questlab_grading_duration_seconds",
            "Submit-to-answer time of graded submissions in seconds, by outcome.",
            ["outcome"],
            buckets=GRADING_BUCKETS,
            registry=registry,
        )
        self.pages = Counter(
            "questlab_pages_total", "HTML pages served, by page.", ["page"], registry=registry
        )
        self.content_errors = Gauge(
            "questlab_content_errors", "Content errors found at start-up.", registry=registry
        )
        self.runner_slots = Gauge(
            "questlab_runner_slots",
            "Learner programs the runner runs at once (0: no runner).",
            registry=registry,
        )
        self.runner_slots_busy = Gauge(
            "questlab_runner_slots_busy", "Runner slots running a learner program now.", registry=registry
        )
        self.runner_queue_depth = Gauge(
            "questlab_runner_queue_depth", "Runs waiting for a free runner slot now.", registry=registry
        )
        self.active_learners = Gauge(
            "questlab_active_learners",
            "Signed-in learners with a request in the last 5 minutes (this process).",
            registry=registry,
        )

    def refresh(self, runner: Any) -> None:
        """Set the gauges read at scrape time: the runner's pool and queue, and the active learners.

        Args:
            runner: the app's :class:`~questlab.runner.RunnerService`, or ``None`` when it is off.
        """
        self.runner_slots.set(runner.slots if runner is not None else 0)
        self.runner_slots_busy.set(runner.busy_slots if runner is not None else 0)
        self.runner_queue_depth.set(runner.queue_depth if runner is not None else 0)
        self.active_learners.set(self.active.count())


def route_label(scope: Scope) -> str:
    """The ``route`` label of a handled request: the path template of the route that answered it,
    ``<mount path>/{path}`` for a mounted app (``/static/{path}``), else :data:`UNMATCHED`."""
    path = getattr(scope.get("route"), "path", None)
    if isinstance(path, str):
        return path
    endpoint = scope.get("endpoint")  # a mount sets its app as the endpoint, but not "route"
    if endpoint is not None:
        for route in getattr(scope.get("app"), "routes", ()):
            if isinstance(route, Mount) and route.app is endpoint:
                return f"{route.path}/{{path}}"
    return UNMATCHED


class MetricsMiddleware:
    """Count and time every HTTP request by method, route template and status; note signed-in learners.

    The learner is the one :func:`questlab.accounts.deps.current_user` found for the request (it keeps
    it in the request's state); requests that never looked do not count.

    Args:
        app: the wrapped ASGI app.
        metrics: where to count.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets when the app raises before answering

        async def send_and_watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_watch)
        finally:
            method = scope["method"] if scope["method"] in METHODS else "other"
            route = route_label(scope)
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.request_seconds.labels(method, route).observe(time.perf_counter() - started)
            user = scope.get("state", {}).get("user")
            if user is not None:
                self.metrics.active.seen(user.id)


def grading_outcome(status_code: int, body: bytes) -> str | None:
    """The ``outcome`` label of a submit answer, or ``None`` for one that is not about grading (404).

    200: the verdict (``pass``, ``fail`` or ``error``); 429: ``rate_limited``; 503 (warming up, busy,
    runner off): ``busy``; 500 (the exercise's reference cannot be made): ``error``.
    """
    if status_code == 200:
        try:
            verdict = json.loads(body).get("status")
        except (ValueError, AttributeError):
            verdict = None
        return verdict if verdict in ("pass", "fail", "error") else "error"
    return {429: "rate_limited", 503: "busy", 500: "error"}.get(status_code)


def graded(handler: Callable[..., Awaitable[Response]]) -> Callable[..., Awaitable[Response]]:
    """Wrap the submit handler so each answer is counted in ``questlab_gradings_total`` and timed.

    The handler keeps its signature (FastAPI reads it through ``__wrapped__``) and its answers; an
    :class:`HTTPException` is counted by its status (503: ``busy``) and raised again.

    Args:
        handler: an endpoint taking ``request`` and answering the results JSON.

    Returns:
        The wrapped endpoint.
    """

    @functools.wraps(handler)
    async def observed(**kwargs: Any) -> Response:
        request: Request = kwargs["request"]
        started = time.perf_counter()
        try:
            response = await handler(**kwargs)
        except HTTPException as refused:
            outcome = grading_outcome(refused.status_code, b"")
            if outcome is not None:
                _count_grading(request, outcome, time.perf_counter() - started)
            raise
        outcome = grading_outcome(response.status_code, bytes(getattr(response, "body", b"")))
        if outcome is not None:
            _count_grading(request, outcome, time.perf_counter() - started)
        return response

    return observed


def _count_grading(request: Request, outcome: str, seconds: float) -> None:
    metrics: Metrics = request.app.state.metrics
    metrics.gradings.labels(outcome).inc()
    metrics.grading_seconds.labels(outcome).observe(seconds)


async def metrics(request: Request) -> Response:
    """``GET /-/metrics``: every metric in Prometheus' text format (the gauges read now)."""
    registry: Metrics = request.app.state.metrics
    registry.refresh(request.app.state.runner)
    return Response(generate_latest(registry.registry), media_type=CONTENT_TYPE_LATEST)
