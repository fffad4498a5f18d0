"""Prometheus metrics: requests and errors by route and status, latency, predictions per digit.

With several worker processes, set PROMETHEUS_MULTIPROC_DIR (`rthdr serve` does) so /metrics
adds up every worker's counts instead of showing one worker's.
"""

from __future__ import annotations

import os
import time

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUESTS = Counter(
    "rthdr_http_requests_total", "HTTP requests by route and status", ["method", "route", "status"]
)
ERRORS = Counter("rthdr_http_errors_total", "HTTP responses with status >= 400", ["route", "status"])
LATENCY = Histogram(
    "rthdr_http_request_duration_seconds",
    "Time from request to response, by route",
    ["route"],
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
PREDICTIONS = Counter("rthdr_predictions_total", "Digits predicted", ["digit"])


class MetricsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            REQUESTS.labels(scope["method"], route, str(status)).inc()
            if status >= 400:
                ERRORS.labels(route, str(status)).inc()
            LATENCY.labels(route).observe(time.perf_counter() - started)


def metrics_endpoint(_: Request) -> Response:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
