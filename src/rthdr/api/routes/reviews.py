"""The review queue for reviewers: list, look at, claim and answer the readings a person should check.

Every route needs the reviewer role when keys are set (dependencies.get_reviewer) and answers 404
while review is off. The routes are plain functions: FastAPI runs them in its thread pool, where the
store's blocking database calls belong. Paths without an id come first: `/reviews/{item_id}` would
otherwise take `/reviews/next`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from rthdr.api.dependencies import ReviewerDep, ReviewStoreDep
from rthdr.api.metrics import CORRECTIONS
from rthdr.api.schemas import (
    NextReview,
    ReviewAnswer,
    ReviewCounts,
    ReviewItem,
    ReviewList,
    ReviewOrder,
    error_responses,
)
from rthdr.review.store import ReviewError, ReviewStore

router = APIRouter(prefix="/api/v1", tags=["review"])
ERRORS = error_responses(401, 403, 404)
ITEM_ERRORS = error_responses(401, 403, 404, 409, 422)

# What the stored bytes are, by their first bytes: the image route must name a type (the service sends
# nosniff), and an item stores the bytes as sent, without their Content-Type.
MAGIC = (
    (b"\x89PNG", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF8", "image/gif"),
    (b"BM", "image/bmp"),
)


def media_type(data: bytes) -> str:
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return next((kind for magic, kind in MAGIC if data.startswith(magic)), "application/octet-stream")


def counts_of(store: ReviewStore) -> ReviewCounts:
    return ReviewCounts(**store.counts(), oldest_pending_age_s=store.oldest_pending_age_s())


def found(store: ReviewStore, item_id: int) -> ReviewItem:
    item = store.get(item_id)
    if item is None:
        raise ReviewError("not_found", f"There is no review item {item_id}.")
    return ReviewItem.of(item)


@router.get(
    "/reviews/counts",
    response_model=ReviewCounts,
    summary="How much is pending, claimed and done",
    responses=ERRORS,
)
def review_counts(store: ReviewStoreDep, _: ReviewerDep) -> ReviewCounts:
    return counts_of(store)


@router.post(
    "/reviews/next",
    response_model=NextReview,
    summary="Claim the next item to review (the one you hold already, if any), with the counts",
    responses=ERRORS,
)
def claim_next(store: ReviewStoreDep, reviewer: ReviewerDep, order: ReviewOrder = "oldest") -> NextReview:
    item = store.claim_next(reviewer, order)
    return NextReview(item=ReviewItem.of(item) if item else None, counts=counts_of(store))


@router.get(
    "/reviews",
    response_model=ReviewList,
    summary="What is waiting for review: oldest first, or least confident first",
    responses=error_responses(401, 403, 404, 422),
)
def list_reviews(
    store: ReviewStoreDep,
    _: ReviewerDep,
    status: Annotated[Literal["pending"], Query(description="only pending items are listed")] = "pending",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    order: ReviewOrder = "oldest",
) -> ReviewList:
    return ReviewList(items=[ReviewItem.of(item) for item in store.pending(limit, order)])


@router.get("/reviews/{item_id}", response_model=ReviewItem, summary="One review item", responses=ERRORS)
def get_review(item_id: int, store: ReviewStoreDep, _: ReviewerDep) -> ReviewItem:
    return found(store, item_id)


@router.get(
    "/reviews/{item_id}/image",
    response_class=Response,
    summary="The item's image, as it was sent",
    responses={200: {"content": {"image/*": {}}}, **ERRORS},
)
def review_image(item_id: int, store: ReviewStoreDep, _: ReviewerDep) -> Response:
    data = store.image(item_id)
    if data is None:
        found(store, item_id)  # raises for an item that does not exist; this one has no picture
        raise ReviewError("not_found", f"Review item {item_id} has no image (or its file has gone).")
    return Response(data, media_type=media_type(data), headers={"Cache-Control": "private, max-age=3600"})


@router.post(
    "/reviews/{item_id}/claim",
    response_model=ReviewItem,
    summary="Claim an item, so that no other reviewer gets it while you answer",
    responses=ITEM_ERRORS,
)
def claim(item_id: int, store: ReviewStoreDep, reviewer: ReviewerDep) -> ReviewItem:
    item = store.claim(item_id, reviewer)
    if item is None:
        raise ReviewError("already_claimed", f"Review item {item_id} is claimed by another reviewer.")
    return ReviewItem.of(item)


@router.post(
    "/reviews/{item_id}",
    response_model=ReviewItem,
    summary='Answer a claimed item: {"answer": "90210"}, or {"answer": null, "reason": "unreadable"}',
    responses=ITEM_ERRORS,
)
def answer(item_id: int, body: ReviewAnswer, store: ReviewStoreDep, reviewer: ReviewerDep) -> ReviewItem:
    item = store.answer(item_id, body.answer, body.reason, reviewer)
    if item.answer is not None and item.answer != item.reading:
        CORRECTIONS.labels("review").inc()
    return ReviewItem.of(item)
