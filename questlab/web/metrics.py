"""Prometheus metrics, served at ``/-/metrics`` (text exposition format).

Each app has its own registry, so tests and several apps in one process do not
mix their numbers.
"""

from __future__ import annotations

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


class Metrics:
    """The metrics of one app.

    Attributes:
        runs: code runs by result status (``questlab_runs_total{status}``).
        run_seconds: wall time of runs that reached the runner, in seconds.
        pages: pages served by route name (``questlab_pages_total{page}``).
        content_errors: content problems of severity error at start-up.
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.runs = Counter(
            "questlab_runs_total", "Code runs by result status.", ["status"], registry=self.registry
        )
        self.run_seconds = Histogram(
            "questlab_run_seconds",
            "Wall time of code runs in seconds.",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.pages = Counter(
            "questlab_pages_total", "HTML pages served, by page.", ["page"], registry=self.registry
        )
        self.content_errors = Gauge(
            "questlab_content_errors", "Content errors found at start-up.", registry=self.registry
        )


async def metrics(request: Request) -> Response:
    """``GET /-/metrics``: every metric in Prometheus' text format."""
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
