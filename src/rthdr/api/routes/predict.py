"""POST /api/v1/predict: one digit from an image."""

from __future__ import annotations

import time

import numpy as np
from fastapi import APIRouter, Request

from rthdr.api.batcher import next_stage
from rthdr.api.dependencies import (
    CharsetParam,
    ExplainParam,
    RecognitionDep,
)
from rthdr.api.inputs import REQUEST_BODY, Drawing, read_drawing
from rthdr.api.metrics import PREDICTIONS
from rthdr.api.review_queue import SKIP_HEADER, queue_answer
from rthdr.api.schemas import (
    Candidate,
    HeatmapOut,
    ModelRef,
    PredictResponse,
    SourceReading,
    Sources,
    Timing,
    error_responses,
)
from rthdr.core.characters import (
    CHECK_IMAGE_WEIGHT,
    Outputs,
    read_character,
    read_characters,
    require_charset,
)
from rthdr.core.charsets import DEFAULT_CHARSET, DIGITS, SCRIPT_CHARSETS
from rthdr.core.explain import explain_reading as heatmap
from rthdr.core.inference import StrokeClassifier, fuse
from rthdr.core.pipeline import decode_timed, png_data_url, prepare, prepare_decoded, prepare_strokes
from rthdr.core.strokes import features

router = APIRouter(prefix="/api/v1", tags=["recognition"])


@router.post(
    "/predict",
    response_model=PredictResponse,
    summary="Recognise one handwritten digit, letter or character",
    description='Send the image as a multipart file field `image`, as JSON `{"image": "data:image/png;'
    'base64,..."}` (what a canvas gives), as JSON `{"pixels": [[28 rows of 28 values 0-255]]}` with '
    "0 = background, or as raw image bytes with an image/* Content-Type. Any polarity, size or "
    "position of the digit works: the image goes through MNIST-style preprocessing first. `charset` "
    "chooses what is read: digits (the default; a letter or a scribble comes back uncertain, with reason "
    "not_a_digit and what it looks like), letters, alphanumeric, or the digits of devanagari, "
    "arabic-indic or persian (a model trained on fonts only). JSON may carry the drawing's pen `strokes`, "
    "alone or with its image: digits are then read from both, fused, and `sources` says what each said. "
    "With review "
    "on (RTHDR_REVIEW), uncertain answers and an audit share are queued for people to check, and "
    "`review_id` names the item.",
    openapi_extra={**REQUEST_BODY, "parameters": [SKIP_HEADER]},
    responses=error_responses(400, 413, 415, 422),
)
async def predict(
    request: Request,
    models: RecognitionDep,
    explain: ExplainParam = False,
    charset: CharsetParam = DEFAULT_CHARSET,
) -> PredictResponse:
    started = time.perf_counter()
    digits = charset == DEFAULT_CHARSET
    reader = models.readers.for_charset(charset)
    require_charset(charset, reader is not None)
    drawing = await read_drawing(request)
    # On the loop, in stages: see rthdr.api.batcher.
    await next_stage()
    if isinstance(drawing.image, bytes):
        image: bytes | np.ndarray = drawing.image
        decoded, decode_ms = decode_timed(drawing.image, models.settings.max_image_pixels)
        await next_stage()
        prepared = prepare_decoded(decoded, decode_ms)
    elif drawing.image is not None:  # pixels
        image = drawing.image
        prepared = prepare(image)
    else:
        assert drawing.strokes is not None
        prepared, image = prepare_strokes(drawing.strokes)
    model_input = prepared.model_input[np.newaxis]
    inference_started = time.perf_counter()
    digit_outputs = await models.predictor.run(model_input) if digits else None
    character_outputs = await reader.run(model_input) if reader else None
    classes = reader.classifier.classes if reader else ()
    sources = None
    if drawing.strokes is not None:  # fused with the model that answers: in digits the digit model's
        stroke_model = models.strokes.for_charset(charset)
        pen = features(drawing.strokes)[np.newaxis]  # what both stroke models read
        if digit_outputs is not None:
            digit_outputs, sources = with_strokes(digit_outputs, drawing, pen, stroke_model, DIGITS, charset)
            character_outputs = checked_with_strokes(character_outputs, pen, models.strokes.characters)
        elif character_outputs is not None:
            character_outputs, sources = with_strokes(
                character_outputs, drawing, pen, stroke_model, classes, charset
            )
    (reading,) = read_characters(charset, digit_outputs, character_outputs, classes)
    inference_ms = (time.perf_counter() - inference_started) * 1000
    await next_stage()
    answered_by = models.predictor.classifier if digits or reader is None else reader.classifier
    PREDICTIONS.labels(reading.character).inc()
    review_id = None
    if digits:  # the review queue holds digits: its corrections retrain the digit model
        review_id = await queue_answer(
            request,
            "predict",
            image,
            reading.character,
            [reading.confidence],
            answered_by.version,
            reading.uncertain,
        )
    preview = png_data_url(prepared.model_input)
    await next_stage()
    return PredictResponse(
        charset=charset,
        character=reading.character,
        digit=int(reading.character) if reading.character.isdigit() else None,
        confidence=reading.confidence,
        probabilities=None if reading.probabilities is None else reading.probabilities.tolist(),
        candidates=[Candidate(character=c, probability=p) for c, p in reading.candidates],
        uncertain=reading.uncertain,
        reason=reading.reason,
        looks_like=reading.looks_like,
        preprocessed=preview,
        region=[round(v, 1) for v in prepared.region],
        heatmap=HeatmapOut.of(heatmap(reading, prepared.model_input, answered_by)) if explain else None,
        model=ModelRef.of(answered_by),
        timing_ms=Timing.measured(prepared.decode_ms, prepared.preprocess_ms, inference_ms, started),
        review_id=review_id,
        sources=sources,
    )


# What the stroke models cannot read (their training data has no strokes of these scripts).
NO_STROKE_MODEL = {
    charset: f"no stroke model reads {charset}: its digits have no pen-stroke training data here "
    "(fonts only, no single-stroke fonts); read from the picture alone"
    for charset in SCRIPT_CHARSETS
}
# And where this service has no stroke model for a charset (the page reading on device says the same).
STROKES_UNREAD = "the service has no stroke model for this charset: read from the picture alone"


def checked_with_strokes(
    outputs: Outputs | None, pen: np.ndarray, model: StrokeClassifier | None
) -> Outputs | None:
    """In digits, the character model's check of a drawing read from its strokes too, where there is a
    character stroke model (rthdr.core.characters.CHECK_IMAGE_WEIGHT); the class maps stay the
    picture's."""
    if outputs is None or model is None:
        return outputs
    probabilities, cams = outputs
    return fuse(probabilities, model(pen), CHECK_IMAGE_WEIGHT), cams


def with_strokes(
    outputs: Outputs,
    drawing: Drawing,
    pen: np.ndarray,
    model: StrokeClassifier | None,
    classes: tuple[str, ...],
    charset: str,
) -> tuple[Outputs, Sources]:
    """The answering model's outputs fused with the stroke model's reading of the strokes (`pen`: their
    features; the class maps stay the image model's: the explanation is of the picture), and what each
    source said."""
    image_p, cams = outputs

    def said(probabilities: np.ndarray) -> SourceReading:
        reading = read_character(probabilities[0], cams[0], classes, charset)
        digit = int(reading.character) if reading.character in DIGITS else None
        return SourceReading(character=reading.character, digit=digit, confidence=reading.confidence)

    image_sent = drawing.image is not None
    if model is None:
        unread = NO_STROKE_MODEL.get(charset, STROKES_UNREAD)
        return outputs, Sources(image=said(image_p), image_sent=image_sent, strokes_unread=unread)
    stroke_p = model(pen)
    fused = model.fused(image_p, stroke_p, charset)
    return (fused, cams), Sources(
        image=said(image_p),
        strokes=said(stroke_p),
        fused=said(fused),
        image_weight=model.fusion_in(charset)[0],
        image_sent=image_sent,
    )
