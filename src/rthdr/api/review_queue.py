"""Queueing the service's answers for review: those rthdr.review.policy picks (every uncertain one,
and RTHDR_REVIEW_AUDIT_RATE of the rest), written to the review store off the event loop."""

from __future__ import annotations

import logging
import random
from typing import Any

import cv2
import numpy as np
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from rthdr.api.metrics import QUEUE_ERRORS, QUEUED
from rthdr.api.settings import Settings
from rthdr.review.policy import review_reason
from rthdr.review.store import NewItem, ReviewStore

log = logging.getLogger("rthdr.api")

# For the OpenAPI schema of /predict and /recognize: the header that keeps an answer out of the queue.
SKIP_HEADER: dict[str, Any] = {
    "name": "X-Review",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "enum": ["skip"]},
    "description": "with review on, `skip` keeps this answer out of the review queue: the page sends it "
    "with its interim answers while a stroke is still being drawn",
}


def open_store(settings: Settings) -> ReviewStore | None:
    """The review store, migrated and purged of items older than the retention, when review is on or
    a database is named; None otherwise, and then nothing touches a database. Every worker does this
    at start-up: the store's migrate() holds a lock, and a second purge finds nothing to delete."""
    if not settings.review and not settings.database_url:
        return None
    store = ReviewStore(settings.database_url)
    store.migrate()
    if settings.review_retention_days > 0:
        purged = store.purge(settings.review_retention_days)
        if purged:
            log.info("purged %d review items older than %g days", purged, settings.review_retention_days)
    log.info("review queue in %s; review %s", store.url, "on" if settings.review else "off")
    return store


def image_bytes(image: bytes | np.ndarray) -> bytes:
    """The image as sent; 28x28 pixels sent as JSON become a PNG (0 = background, as sent), so that
    every item has a picture a reviewer can see."""
    if isinstance(image, bytes):
        return image
    ok, encoded = cv2.imencode(".png", np.clip(image, 0, 255).astype(np.uint8))
    assert ok, "PNG encoding of a small uint8 array cannot fail"
    return encoded.tobytes()


class ReviewQueue:
    """The service's side of the queue: decides what to queue and writes it to `store`."""

    def __init__(self, store: ReviewStore, audit_rate: float, rng: random.Random | None = None) -> None:
        self.store, self.audit_rate = store, audit_rate
        self.rng = rng or random.Random()

    def reason(self, uncertain: bool) -> str | None:
        """Why an answer should be reviewed ("uncertain" or "audit"), or None: it need not be."""
        return review_reason(uncertain, self.audit_rate, self.rng)

    async def add(self, item: NewItem) -> int:
        """Write `item` in the thread pool, so that the event loop keeps serving; its id, committed."""
        review_id = await run_in_threadpool(self.store.add, item)
        QUEUED.labels(item.reason).inc()
        return review_id


async def queue_answer(
    request: Request,
    source: str,
    image: bytes | np.ndarray,
    reading: str,
    confidences: list[float],
    model_version: str,
    uncertain: bool,
) -> int | None:
    """For /predict and /recognize: the answer queued if review is on and it should be reviewed; its
    review id once committed, else None.

    The queue is read from app.state, not declared as a dependency: FastAPI spends ~20 us solving
    each dependency on every request (see security.guard_api), and with review off this is one
    attribute lookup. A database that refuses the write is logged and counted, not passed on: the
    reading is still right to return, and recognition should not go down with its review queue.
    Without an id the caller is told nothing was queued, so nothing unsaved is ever acknowledged."""
    queue: ReviewQueue | None = request.app.state.review_queue
    if queue is None or request.headers.get("x-review") == "skip":
        return None
    reason = queue.reason(uncertain)
    if reason is None:
        return None
    item = NewItem(source, reason, reading, confidences, model_version, image=image_bytes(image))
    try:
        return await queue.add(item)
    except Exception:
        log.exception("could not queue a %s answer for review", source)
        QUEUE_ERRORS.inc()
        return None
