"""`rthdr batch --review`: the rows a person should check go to the review queue, with the file's
path instead of its bytes (the scans stay where they are), chosen as the service chooses
(rthdr.review.policy)."""

from __future__ import annotations

import random
from pathlib import Path

from rthdr.batch.rows import Row
from rthdr.review.policy import review_reason
from rthdr.review.store import NewItem, ReviewStore


class BatchReview:
    """Called with every row written (run_batch's on_row); counts what it queued."""

    def __init__(self, store: ReviewStore, audit_rate: float, rng: random.Random | None = None) -> None:
        self.store, self.audit_rate = store, audit_rate
        self.rng = rng or random.Random()
        self.queued = 0

    def __call__(self, row: Row) -> None:
        if row.error is not None or row.reading is None:
            return  # nothing was read: the row's error code says why, there is no reading to check
        reason = review_reason(bool(row.uncertain), self.audit_rate, self.rng)
        if reason is None:
            return
        confidences = row.digit_confidences or [row.confidence or 0.0]
        item = NewItem(
            "batch",
            reason,
            row.reading,
            confidences,
            row.model_version or "",
            image_path=str(Path(row.path).resolve()),
        )
        self.store.add(item)
        self.queued += 1
