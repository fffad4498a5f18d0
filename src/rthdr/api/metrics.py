"""Prometheus metrics: requests and errors by route and status, latency, predictions per digit, and
the review queue: what was queued and corrected (counters), its size and age (read at scrape time).

With several worker processes, set PROMETHEUS_MULTIPROC_DIR (`rthdr serve` does) so /metrics
adds up every worker's counts instead of showing one worker's.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rthdr.review.store import ReviewStore

log = logging.getLogger("rthdr.api")

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
QUEUED = Counter("rthdr_reviews_queued_total", "Items queued for review, by reason", ["reason"])
QUEUE_ERRORS = Counter(
    "rthdr_review_queue_errors_total", "Answers that should have been queued but the database refused"
)
CORRECTIONS = Counter(
    "rthdr_review_corrections_total",
    'Readings corrected: by a reviewer\'s answer (via="review") or sent from the page (via="page")',
    ["via"],
)


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


class ReviewQueueCollector:
    """The queue's size by status and the oldest pending item's age, asked of the database at scrape
    time. Every worker shares the database, so whichever answers the scrape reports the truth; gauges
    set per process would, in multiprocess mode, each hold a value as old as that worker's last
    review request."""

    def __init__(self, store: ReviewStore) -> None:
        self.store = store

    def collect(self) -> Iterator[Metric]:
        try:
            counts, age = self.store.counts(), self.store.oldest_pending_age_s()
        except Exception:  # a database that is down must not take the other metrics with it
            log.exception("could not read the review queue for /metrics")
            return
        items = GaugeMetricFamily("rthdr_reviews", "Review items by status", labels=["status"])
        for status in ("pending", "claimed", "done"):
            items.add_metric([status], counts[status])
        yield items
        yield GaugeMetricFamily(
            "rthdr_review_queue_age_seconds", "How long the oldest pending review item has waited", age or 0.0
        )


def metrics_endpoint(request: Request) -> Response:
    """A plain function: Starlette runs it in the thread pool, so the queue's query blocks no loop."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        body = generate_latest(registry)
    else:
        body = generate_latest()
    store = getattr(request.app.state, "review_store", None)
    if store is not None:
        queue = CollectorRegistry(auto_describe=False)  # nothing is asked of the database until now
        queue.register(ReviewQueueCollector(store))
        body += generate_latest(queue)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
