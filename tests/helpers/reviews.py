"""Review items for the tests: a digit read with some confidence, and a way to age one."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from rthdr.review.db import ReviewRow
from rthdr.review.store import NewItem, ReviewStore


def digit(reading: str = "7", confidence: float = 0.5, **fields: object) -> NewItem:
    """An uncertain single digit from /api/v1/predict, with its image bytes."""
    values: dict[str, object] = {
        "source": "predict",
        "reason": "uncertain",
        "reading": reading,
        "confidences": [confidence] * len(reading),
        "model_version": "5abf082b66a4",
        "image": b"\x89PNG image " + reading.encode(),
    }
    return NewItem(**{**values, **fields})  # type: ignore[arg-type]


def backdate(store: ReviewStore, item_id: int, days: float) -> None:
    """Make an item look as if it had been queued `days` ago."""
    item = store.get(item_id)
    assert item is not None
    earlier = item.created_at - timedelta(days=days)
    with store.engine.begin() as connection:
        connection.execute(update(ReviewRow).where(ReviewRow.id == item_id).values(created_at=earlier))
