"""Typed request and response bodies of API v1; FastAPI turns them into the OpenAPI schema."""

from __future__ import annotations

import time
from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from rthdr.core.explain import Heatmap
from rthdr.core.inference import UNCERTAIN_BELOW, Classifier
from rthdr.core.strokes import MAX_POINTS, MAX_STROKES
from rthdr.review.store import Item

PixelRow = Annotated[list[Annotated[float, Field(ge=0, le=255)]], Field(min_length=28, max_length=28)]


class ImageJSON(BaseModel):
    """One drawing as JSON: a data URL (what canvas.toDataURL() gives) or 28x28 MNIST-style pixels,
    and/or its pen strokes (rthdr.core.strokes checks them)."""

    model_config = ConfigDict(extra="forbid")

    image: str | None = Field(
        None,
        description="data:image/png;base64,... (PNG, JPEG, WebP, BMP or GIF), or bare base64",
        examples=["data:image/png;base64,iVBORw0KGgo..."],
    )
    pixels: Annotated[list[PixelRow], Field(min_length=28, max_length=28)] | None = Field(
        None, description="28 rows of 28 grey levels 0-255, 0 = background (MNIST's convention)"
    )
    strokes: list[Any] | None = Field(
        None,
        description=f"the pen strokes, in drawing order: each a list of [x, y] or [x, y, t_ms] points in canvas "
        f"pixels (y down, any scale); at most {MAX_STROKES} strokes and {MAX_POINTS} points. Alone, or with "
        "`image` or `pixels` of the same drawing",
        examples=[[[[40, 30], [120, 30], [70, 130]]]],
    )

    @model_validator(mode="after")
    def one_picture(self) -> ImageJSON:
        if self.image is not None and self.pixels is not None:
            raise ValueError("give one of 'image' (a data URL) or 'pixels' (28x28 values), not both")
        if self.image is None and self.pixels is None and self.strokes is None:
            raise ValueError("give 'image' (a data URL), 'pixels' (28x28 values) or 'strokes'")
        return self


class OnDevice(BaseModel):
    available: bool = Field(description="whether /vendor/ort serves ONNX Runtime Web (`npm ci` installs it)")


class ModelRef(BaseModel):
    name: str = Field(description="model file name")
    version: str = Field(description="first 12 hex digits of the model file's SHA-256")

    @classmethod
    def of(cls, classifier: Classifier) -> ModelRef:
        return cls(name=classifier.name, version=classifier.version)


class Timing(BaseModel):
    decode: float = Field(description="ms spent decoding the image")
    preprocess: float = Field(description="ms spent on the MNIST preprocessing")
    inference: float = Field(description="ms from handing the input to the model to getting its answer")
    total: float = Field(description="ms from reading the request to building the answer")

    @classmethod
    def measured(cls, decode: float, preprocess: float, inference: float, started: float) -> Timing:
        """Stage times in ms; `started` is the perf_counter() reading at the start of the request."""
        total = (time.perf_counter() - started) * 1000
        return cls(
            decode=round(decode, 3),
            preprocess=round(preprocess, 3),
            inference=round(inference, 3),
            total=round(total, 3),
        )


class Prediction(BaseModel):
    digit: int = Field(ge=0, le=9, description="the most likely digit")
    confidence: float = Field(ge=0, le=1, description="its probability")
    probabilities: list[float] = Field(description="probability of each digit 0-9")
    uncertain: bool = Field(description=f"true when the confidence is below {UNCERTAIN_BELOW}")


class Candidate(BaseModel):
    character: str
    probability: float = Field(ge=0, le=1)


class HeatmapOut(BaseModel):
    image: str = Field(description="PNG data URL, 112x112: the map in colour over the 28x28 input")
    values: list[list[float]] = Field(description="the map, 28 rows of 28 values in [0, 1]")
    method: Literal["guided-grad-cam", "grad-cam"] = Field(
        description="guided-grad-cam: Grad-CAM times guided backpropagation, on the strokes (the "
        "model's explainer graph); grad-cam: the 7x7 class activation map alone, where it has none"
    )

    @classmethod
    def of(cls, heatmap: Heatmap) -> HeatmapOut:
        return cls(
            image=heatmap.data_url(), values=np.round(heatmap.values, 4).tolist(), method=heatmap.method
        )


REVIEW_ID = "with review on: the id of the review item this answer was queued as, else null"
REGION = (
    "[x, y, side]: the square of the original image the 28x28 model input shows (to draw the heatmap over it)"
)


Reason = Literal["low_confidence", "not_a_digit", "not_a_letter", "not_a_character", "models_disagree"]


class SourceReading(BaseModel):
    character: str = Field(description="the source's likeliest character of the charset")
    digit: int | None = Field(None, ge=0, le=9, description="the digit, where the character is one")
    confidence: float = Field(ge=0, le=1)


class Sources(BaseModel):
    """What each source said, where strokes came with the drawing."""

    image: SourceReading = Field(
        description="the image model: on the image sent, or on the strokes drawn as a picture"
    )
    strokes: SourceReading | None = Field(
        None, description="the stroke model; null where none reads the charset (see strokes_unread)"
    )
    strokes_unread: str | None = Field(
        None, description="why the strokes were only drawn as a picture, not read, where they were not"
    )
    fused: SourceReading | None = Field(None, description="the two combined: the answer above")
    image_weight: float | None = Field(
        None, description="the image model's share of the fused log-probabilities (chosen on validation)"
    )
    image_sent: bool = Field(description="whether an image came with the strokes (else they were drawn)")


class PredictResponse(BaseModel):
    charset: str = Field(description="what was read: digits, letters or alphanumeric")
    character: str = Field(
        description="the likeliest character of the charset: a digit, a capital, or one of the lower-case "
        "letters whose handwritten shape is their own (a b d e f g h n q r t); c, o, s... are read as capitals",
        examples=["7", "A"],
    )
    digit: int | None = Field(None, ge=0, le=9, description="the digit, where the character is one")
    confidence: float = Field(ge=0, le=1, description="its calibrated probability")
    probabilities: list[float] | None = Field(
        None, description="charset=digits: the calibrated probability of each digit 0-9; else null"
    )
    candidates: list[Candidate] = Field(description="the charset's five likeliest characters, best first")
    uncertain: bool = Field(description="true when the answer should not be trusted: see `reason`")
    reason: Reason | None = Field(
        None,
        description=f"why it is uncertain: low_confidence (under {UNCERTAIN_BELOW}), not_a_digit / not_a_letter (something "
        "outside the charset fits better), not_a_character (none of them: a scribble, a smudge, a symbol), "
        "models_disagree (charset digits: the character model reads another digit)",
    )
    looks_like: str | None = Field(
        None,
        description="with not_a_digit or not_a_letter: what it looks like instead; with models_disagree: the "
        "character model's digit",
    )
    preprocessed: str = Field(description="the exact 28x28 model input, as a PNG data URL")
    region: list[float] = Field(min_length=3, max_length=3, description=REGION)
    heatmap: HeatmapOut | None = Field(None, description="with ?explain=true: why the model chose the digit")
    model: ModelRef
    timing_ms: Timing
    review_id: int | None = Field(None, description=REVIEW_ID)
    sources: Sources | None = Field(None, description="with strokes: each source's reading")


class DigitReading(Prediction):
    box: list[int] = Field(
        min_length=4, max_length=4, description="[x, y, w, h] in the original image's pixels"
    )
    heatmap: HeatmapOut | None = Field(None, description="with ?explain=true: why the model chose the digit")
    region: list[float] = Field(min_length=3, max_length=3, description=REGION)


class CharacterItem(BaseModel):
    character: str
    confidence: float = Field(ge=0, le=1)
    candidates: list[Candidate]
    uncertain: bool
    reason: Reason | None = None
    looks_like: str | None = None
    box: list[int] = Field(
        min_length=4, max_length=4, description="[x, y, w, h] in the original image's pixels"
    )
    region: list[float] = Field(min_length=3, max_length=3, description=REGION)
    heatmap: HeatmapOut | None = Field(
        None, description="with ?explain=true: why the model chose the character"
    )


class RecognizeResponse(BaseModel):
    charset: str = Field(description="what was read: digits, letters or alphanumeric")
    text: str = Field(
        description="the characters read, left to right; with letters or alphanumeric, a space at each word gap",
        examples=["90210", "SW1A 1AA"],
    )
    characters: list[CharacterItem] = Field(description="each character read, as /api/v1/predict answers one")
    digits: list[DigitReading] | None = Field(None, description="charset=digits: each digit, as before")
    uncertain: bool = Field(description="true when any character is uncertain")
    segmented_by: Literal["image", "strokes"] = Field(
        "image",
        description="how the characters were found: cut from the image, or grouped from the pen strokes by the "
        "order they were drawn in (boxes then in the strokes' coordinates; digits read from strokes and "
        "drawing fused)",
    )
    model: ModelRef
    timing_ms: Timing
    review_id: int | None = Field(None, description=REVIEW_ID)


# ---- the review queue ----------------------------------------------------------------------------

Digits = Annotated[str, Field(pattern=r"^[0-9]{1,64}$", examples=["90210"])]
ReviewOrder = Literal["oldest", "confidence"]


class ReviewItem(BaseModel):
    id: int
    created_at: datetime
    status: Literal["pending", "claimed", "done"] = Field(description="a lapsed claim is pending again")
    source: Literal["predict", "recognize", "batch", "page"]
    reason: Literal["uncertain", "audit", "correction"]
    reading: str = Field(description="what the model read")
    confidences: list[float] = Field(description="the model's confidence in each digit it read")
    model_version: str
    image_url: str | None = Field(description="where the image is, if one is stored")
    image_path: str | None = Field(description="batch jobs: the file the image was read from")
    suggested: str | None = Field(description='"Wrong? Correct it": what the person on the page said')
    claimed_by: str | None
    claimed_at: datetime | None
    answer: str | None = Field(description="the reviewer's reading; null with answer_reason when none")
    answer_reason: str | None
    answered_by: str | None
    answered_at: datetime | None

    @classmethod
    def of(cls, item: Item) -> ReviewItem:
        fields = asdict(item)
        image_url = f"/api/v1/reviews/{item.id}/image" if fields.pop("has_image") else None
        return cls(**fields, image_url=image_url)


class ReviewList(BaseModel):
    items: list[ReviewItem]


class ReviewCounts(BaseModel):
    pending: int = Field(description="waiting for a reviewer (lapsed claims too)")
    claimed: int = Field(description="held by a reviewer now")
    done: int
    corrected: int = Field(description="done with an answer other than the model's reading")
    oldest_pending_age_s: float | None = Field(description="how long the oldest pending item has waited")


class NextReview(BaseModel):
    item: ReviewItem | None = Field(description="the item now claimed for you; null when none is pending")
    counts: ReviewCounts


class ReviewAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer: Digits | None = Field(description="the digits the image shows; null when it cannot be read")
    reason: str | None = Field(
        None, max_length=256, description='why there is no answer, e.g. "unreadable"', examples=["unreadable"]
    )

    @model_validator(mode="after")
    def reason_without_answer(self) -> ReviewAnswer:
        if self.answer is None and not (self.reason or "").strip():
            raise ValueError('give the answer, or "answer": null with a reason such as "unreadable"')
        return self


class Correction(BaseModel):
    """What the page's "Wrong? Correct it" sends: the picture, what the model read, what it shows."""

    model_config = ConfigDict(extra="forbid")

    image: str = Field(description="the picture the answer was about, as a data URL (or bare base64)")
    reading: Annotated[str, Field(pattern=r"^[0-9]{0,64}$")] = Field(description="what the model read")
    answer: Digits = Field(description="what the picture really shows")
    confidences: list[Annotated[float, Field(ge=0, le=1)]] = Field(
        description="the model's confidence in each digit it read"
    )
    model_version: str | None = Field(
        None, max_length=128, description="the version of the model that read it; default: the served one"
    )

    @model_validator(mode="after")
    def one_confidence_per_digit(self) -> Correction:
        if len(self.confidences) != len(self.reading):
            raise ValueError("give one confidence per digit read")
        return self


class Queued(BaseModel):
    review_id: int = Field(description="the review item the correction was queued as")


class ReviewStatus(BaseModel):
    enabled: bool = Field(description="whether answers are queued for review (RTHDR_REVIEW)")
    reviewer_key_required: bool = Field(description="whether reviewing needs a reviewer key in X-API-Key")


class ErrorDetail(BaseModel):
    code: str = Field(description="stable machine-readable code, e.g. no_digit_found")
    message: str = Field(description="what went wrong and what to do, for people")


class ErrorResponse(BaseModel):
    error: ErrorDetail


class Status(BaseModel):
    status: str


class ModelCard(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str
    version: str
    sha256: str


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error statuses a route can answer, all with ErrorResponse."""
    return {status: {"model": ErrorResponse} for status in statuses}
