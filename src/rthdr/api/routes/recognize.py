"""POST /api/v1/recognize: a whole written number (postal code, amount, form field)."""

from __future__ import annotations

import time

import numpy as np
from fastapi import APIRouter, Request

from rthdr.api.dependencies import ExplainParam, OneDigitDep, PredictorDep, SettingsDep
from rthdr.api.inputs import REQUEST_BODY, read_image
from rthdr.api.metrics import PREDICTIONS
from rthdr.api.review_queue import SKIP_HEADER, queue_answer
from rthdr.api.schemas import DigitReading, HeatmapOut, ModelRef, RecognizeResponse, Timing, error_responses
from rthdr.core.explain import explain as heatmap
from rthdr.core.pipeline import prepare_number
from rthdr.core.segment_params import DEFAULTS

router = APIRouter(prefix="/api/v1", tags=["recognition"])


@router.post(
    "/recognize",
    response_model=RecognizeResponse,
    summary="Read a whole handwritten number",
    description="Same inputs as /api/v1/predict. Finds each digit of a single-line number of 1 to "
    f"{DEFAULTS.max_digits} digits (touching and broken digits, a box or underline around it, either polarity), reads them in "
    "one batch and returns them left to right with their boxes in the original image's pixels. Queued "
    "for review as /api/v1/predict's answers are.",
    openapi_extra={**REQUEST_BODY, "parameters": [SKIP_HEADER]},
    responses=error_responses(400, 413, 415, 422),
)
async def recognize(
    request: Request,
    predictor: PredictorDep,
    settings: SettingsDep,
    one_digit: OneDigitDep,
    explain: ExplainParam = False,
) -> RecognizeResponse:
    started = time.perf_counter()
    image = await read_image(request)
    classify = predictor.classifier.probabilities  # for choosing split points of touching digits
    # On the loop: see rthdr.api.batcher.
    prepared = prepare_number(image, classify, settings.max_image_pixels, one_digit)
    inference_started = time.perf_counter()
    predictions = await predictor.predict(np.stack([d.model_input for d in prepared.digits]))
    inference_ms = (time.perf_counter() - inference_started) * 1000
    for prediction in predictions:
        PREDICTIONS.labels(str(prediction.digit)).inc()
    readings = [
        DigitReading(
            digit=p.digit,
            confidence=p.confidence,
            probabilities=p.probabilities.tolist(),
            uncertain=p.uncertain,
            box=list(box),
            heatmap=HeatmapOut.of(heatmap(p.cam, digit.model_input)) if explain else None,
            region=[round(v, 1) for v in region],
        )
        for p, box, digit, region in zip(
            predictions, prepared.original_boxes(), prepared.digits, prepared.original_regions(), strict=True
        )
    ]
    text, uncertain = "".join(str(r.digit) for r in readings), any(r.uncertain for r in readings)
    confidences = [r.confidence for r in readings]
    version = predictor.classifier.version
    review_id = await queue_answer(request, "recognize", image, text, confidences, version, uncertain)
    return RecognizeResponse(
        text=text,
        digits=readings,
        uncertain=uncertain,
        model=ModelRef.of(predictor.classifier),
        timing_ms=Timing.measured(prepared.decode_ms, prepared.preprocess_ms, inference_ms, started),
        review_id=review_id,
    )
