"""POST /api/v1/corrections: the page's "Wrong? Correct it", queued for a reviewer to confirm.

A person's correction is a suggestion, not a label: anyone can type into the page, so it waits in the
queue (reason "correction", the person's answer as `suggested`) until a reviewer answers it, and only
reviewed answers become training data.
"""

from __future__ import annotations

from fastapi import APIRouter

from rthdr.api.dependencies import ClassifierDep, ReviewQueueDep, SettingsDep
from rthdr.api.metrics import CORRECTIONS
from rthdr.api.schemas import Correction, Queued, error_responses
from rthdr.core.decode import decode_image
from rthdr.core.pipeline import decode_data_url
from rthdr.review.store import NewItem

router = APIRouter(prefix="/api/v1", tags=["review"])


@router.post(
    "/corrections",
    response_model=Queued,
    status_code=201,
    summary="Send a correction of a wrong answer, with its picture, for a reviewer to confirm",
    responses=error_responses(404, 413, 415, 422),
)
async def correct(
    body: Correction, queue: ReviewQueueDep, classifier: ClassifierDep, settings: SettingsDep
) -> Queued:
    image = decode_data_url(body.image)
    decode_image(image, settings.max_image_pixels)  # what no one could look at is refused, not stored
    item = NewItem(
        source="page",
        reason="correction",
        reading=body.reading,
        confidences=body.confidences,
        model_version=body.model_version or classifier.version,
        image=image,
        suggested=body.answer,
    )
    review_id = await queue.add(item)  # committed before the page is thanked
    CORRECTIONS.labels("page").inc()
    return Queued(review_id=review_id)
