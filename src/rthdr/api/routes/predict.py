"""POST /api/v1/predict: one digit from an image."""

from __future__ import annotations

import time

import numpy as np
from fastapi import APIRouter, Request

from rthdr.api.dependencies import ExplainParam, PredictorDep, SettingsDep
from rthdr.api.inputs import REQUEST_BODY, read_image
from rthdr.api.metrics import PREDICTIONS
from rthdr.api.review_queue import SKIP_HEADER, queue_answer
from rthdr.api.schemas import HeatmapOut, ModelRef, PredictResponse, Timing, error_responses
from rthdr.core.explain import explain as heatmap
from rthdr.core.pipeline import png_data_url, prepare

router = APIRouter(prefix="/api/v1", tags=["recognition"])


@router.post(
    "/predict",
    response_model=PredictResponse,
    summary="Recognise one handwritten digit",
    description='Send the image as a multipart file field `image`, as JSON `{"image": "data:image/png;'
    'base64,..."}` (what a canvas gives), as JSON `{"pixels": [[28 rows of 28 values 0-255]]}` with '
    "0 = background, or as raw image bytes with an image/* Content-Type. Any polarity, size or "
    "position of the digit works: the image goes through MNIST-style preprocessing first. With review "
    "on (RTHDR_REVIEW), uncertain answers and an audit share are queued for people to check, and "
    "`review_id` names the item.",
    openapi_extra={**REQUEST_BODY, "parameters": [SKIP_HEADER]},
    responses=error_responses(400, 413, 415, 422),
)
async def predict(
    request: Request, predictor: PredictorDep, settings: SettingsDep, explain: ExplainParam = False
) -> PredictResponse:
    started = time.perf_counter()
    image = await read_image(request)
    prepared = prepare(image, settings.max_image_pixels)  # on the loop: see rthdr.api.batcher
    inference_started = time.perf_counter()
    (prediction,) = await predictor.predict(prepared.model_input[np.newaxis])
    inference_ms = (time.perf_counter() - inference_started) * 1000
    PREDICTIONS.labels(str(prediction.digit)).inc()
    version = predictor.classifier.version
    reading, confidences = str(prediction.digit), [prediction.confidence]
    review_id = await queue_answer(
        request, "predict", image, reading, confidences, version, prediction.uncertain
    )
    return PredictResponse(
        digit=prediction.digit,
        confidence=prediction.confidence,
        probabilities=prediction.probabilities.tolist(),
        uncertain=prediction.uncertain,
        preprocessed=png_data_url(prepared.model_input),
        region=[round(v, 1) for v in prepared.region],
        heatmap=HeatmapOut.of(heatmap(prediction.cam, prepared.model_input)) if explain else None,
        model=ModelRef.of(predictor.classifier),
        timing_ms=Timing.measured(prepared.decode_ms, prepared.preprocess_ms, inference_ms, started),
        review_id=review_id,
    )
