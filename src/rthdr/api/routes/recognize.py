"""POST /api/v1/recognize: a whole written number (postal code, amount, form field)."""

from __future__ import annotations

import time

import numpy as np
from fastapi import APIRouter, Request

from rthdr.api.dependencies import (
    CharsetParam,
    ExplainParam,
    RecognitionDep,
)
from rthdr.api.inputs import REQUEST_BODY, read_drawing
from rthdr.api.metrics import PREDICTIONS
from rthdr.api.review_queue import SKIP_HEADER, queue_answer
from rthdr.api.schemas import (
    Candidate,
    CharacterItem,
    DigitReading,
    HeatmapOut,
    ModelRef,
    RecognizeResponse,
    Timing,
    error_responses,
)
from rthdr.core.characters import CharacterReading, read_characters, require_charset
from rthdr.core.charsets import DEFAULT_CHARSET
from rthdr.core.explain import explain_reading as heatmap
from rthdr.core.pipeline import line_text, prepare_stroke_number
from rthdr.core.segment_params import DEFAULTS
from rthdr.core.strokes import features, render

router = APIRouter(prefix="/api/v1", tags=["recognition"])


@router.post(
    "/recognize",
    response_model=RecognizeResponse,
    summary="Read a whole handwritten number, or a line of characters",
    description="Same inputs as /api/v1/predict. Finds each digit of a single-line number of 1 to "
    f"{DEFAULTS.max_digits} digits (touching and broken digits, a box or underline around it, either polarity), reads them in "
    "one batch and returns them left to right with their boxes in the original image's pixels. Queued "
    "for review as /api/v1/predict's answers are. With `charset=letters` or `alphanumeric` it reads a line "
    "of characters instead (a postcode such as SW1A 1AA, a form code), with a space in `text` at each "
    "word gap; each character is in `characters`. With JSON `strokes`, the characters are the groups of "
    "strokes drawn one after another in one place (a 4 or 5 in two strokes stays one), not cuts of an image: "
    "touching digits need no guess; digits are then read from each group's strokes and its drawing, fused.",
    openapi_extra={**REQUEST_BODY, "parameters": [SKIP_HEADER]},
    responses=error_responses(400, 413, 415, 422),
)
async def recognize(
    request: Request,
    models: RecognitionDep,
    explain: ExplainParam = False,
    charset: CharsetParam = DEFAULT_CHARSET,
) -> RecognizeResponse:
    started = time.perf_counter()
    digits = charset == DEFAULT_CHARSET
    reader = models.readers.for_charset(charset)
    require_charset(charset, reader is not None)
    drawing = await read_drawing(request)
    strokes = drawing.strokes
    if strokes is not None:  # grouped by drawing order: cheap, on the loop
        prepared, groups = prepare_stroke_number(strokes)
        image: bytes | np.ndarray = render(strokes)
    else:
        assert drawing.image is not None
        image = drawing.image
        # In the worker's recognizer process (rthdr.api.offload): the decoding and the cutting, by the
        # digit model's scores for digits, by the character (or script) model's for a line of others.
        prepared = await models.lines.prepare(image, charset, models.settings.max_image_pixels)
    inputs = np.stack([d.model_input for d in prepared.digits])
    inference_started = time.perf_counter()
    digit_outputs = await models.predictor.run(inputs) if digits else None
    # A number's digits are not checked by the character model: cut from photos, 1s and 0s look like
    # I and O to it (of 1,000 digits of validation numbers, 7.7 % came back not_a_digit, 32 % of the 1s).
    character_outputs = await reader.run(inputs) if reader and not digits else None
    classes = reader.classifier.classes if reader else ()
    stroke_model = models.strokes.for_charset(charset)
    if strokes is not None and stroke_model is not None:  # each group's strokes, fused with its picture
        drawn = stroke_model(np.stack([features([strokes[i] for i in g.strokes]) for g in groups]))
        if digit_outputs is not None:
            digit_outputs = (stroke_model.fused(digit_outputs[0], drawn, charset), digit_outputs[1])
        elif character_outputs is not None:
            character_outputs = (
                stroke_model.fused(character_outputs[0], drawn, charset),
                character_outputs[1],
            )
    readings = read_characters(charset, digit_outputs, character_outputs, classes)
    inference_ms = (time.perf_counter() - inference_started) * 1000
    answered_by = models.predictor.classifier if digits or reader is None else reader.classifier
    boxes, regions = prepared.original_boxes(), prepared.original_regions()
    items = []
    for reading, box, part, region in zip(readings, boxes, prepared.digits, regions, strict=True):
        PREDICTIONS.labels(reading.character).inc()
        items.append(
            CharacterItem(
                character=reading.character,
                confidence=reading.confidence,
                candidates=[Candidate(character=c, probability=p) for c, p in reading.candidates],
                uncertain=reading.uncertain,
                reason=reading.reason,
                looks_like=reading.looks_like,
                box=list(box),
                region=[round(v, 1) for v in region],
                heatmap=HeatmapOut.of(heatmap(reading, part.model_input, answered_by)) if explain else None,
            )
        )
    found = [r.character for r in readings]
    text = "".join(found) if digits else line_text(found, boxes)
    uncertain = any(r.uncertain for r in readings)
    review_id = None
    if digits:  # the review queue holds digits: its corrections retrain the digit model
        confidences = [r.confidence for r in readings]
        review_id = await queue_answer(
            request, "recognize", image, text, confidences, answered_by.version, uncertain
        )
    return RecognizeResponse(
        charset=charset,
        text=text,
        characters=items,
        digits=[digit_item(r, item) for r, item in zip(readings, items, strict=True)] if digits else None,
        uncertain=uncertain,
        model=ModelRef.of(answered_by),
        timing_ms=Timing.measured(prepared.decode_ms, prepared.preprocess_ms, inference_ms, started),
        review_id=review_id,
        segmented_by="image" if strokes is None else "strokes",
    )


def digit_item(reading: CharacterReading, item: CharacterItem) -> DigitReading:
    """A digit as /recognize has always listed them (charset digits)."""
    assert reading.probabilities is not None
    return DigitReading(
        digit=int(reading.character),
        confidence=reading.confidence,
        probabilities=reading.probabilities.tolist(),
        uncertain=reading.uncertain,
        box=item.box,
        heatmap=item.heatmap,
        region=item.region,
    )
