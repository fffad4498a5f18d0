"""Named dependencies the routes declare; tests can override any of them.

All are `async def`: FastAPI runs a plain `def` dependency in its thread pool, a thread hop per
dependency per request (measured: most of the server's overhead), and none of these ever blocks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request

from rthdr.api.batcher import Predictor
from rthdr.api.offload import LinePreparer
from rthdr.api.review_queue import ReviewQueue
from rthdr.api.security import reviewer_of
from rthdr.api.settings import Settings
from rthdr.core.charsets import CHARSETS, DEFAULT_CHARSET, SCRIPT_CHARSETS
from rthdr.core.inference import Classifier, StrokeClassifier
from rthdr.review.store import ReviewError, ReviewStore

REVIEW_OFF = "review is off: set RTHDR_REVIEW=on to queue answers for people to check"


async def get_app_settings(request: Request) -> Settings:
    """The settings this app was created with (create_app stores them; tests pass their own)."""
    settings: Settings = request.app.state.settings
    return settings


@dataclass(frozen=True)
class Readers:
    """The models besides the digit model (no batching window), each None where the service has none."""

    characters: Predictor | None  # letters, alphanumeric, and the check that a digit is one
    scripts: Predictor | None  # the digits of other scripts

    def for_charset(self, charset: str) -> Predictor | None:
        """The model a charset is read by (for digits: the character model, which checks them)."""
        return self.scripts if charset in SCRIPT_CHARSETS else self.characters


async def get_readers(request: Request) -> Readers:
    readers: Readers = request.app.state.readers
    return readers


@dataclass(frozen=True)
class StrokeModels:
    """The stroke models, each None where the service has none (strokes are then only drawn)."""

    digits: StrokeClassifier | None  # fused with the digit model
    characters: StrokeClassifier | None  # fused with the character model: letters, alphanumeric

    def for_charset(self, charset: str) -> StrokeClassifier | None:
        """The stroke model a charset's strokes are read by: none covers the other scripts' digits."""
        if charset == DEFAULT_CHARSET:
            return self.digits
        return None if charset in SCRIPT_CHARSETS else self.characters


async def get_strokes(request: Request) -> StrokeClassifier | None:
    """The digit stroke model, or None where the service has none."""
    strokes: StrokeClassifier | None = request.app.state.strokes.digits
    return strokes


@dataclass(frozen=True)
class Recognition:
    """Everything the recognition routes read with, as one dependency: FastAPI spends ~20 us solving
    each dependency on every request (see rthdr.api.security.guard_api), and these come together."""

    settings: Settings
    predictor: Predictor  # the digit model, micro-batched
    readers: Readers
    strokes: StrokeModels
    lines: LinePreparer  # /recognize's decoding and cutting, in its own processes


async def get_recognition(request: Request) -> Recognition:
    recognition: Recognition = request.app.state.recognition
    return recognition


async def get_classifier(request: Request) -> Classifier:
    classifier: Classifier = request.app.state.predictor.classifier
    return classifier


def require_review(request: Request) -> None:
    """Review routes answer 404, saying how to turn review on, while it is off."""
    if request.app.state.review_queue is None:
        raise ReviewError("review_off", REVIEW_OFF)


async def get_review_queue(request: Request) -> ReviewQueue:
    require_review(request)
    queue: ReviewQueue = request.app.state.review_queue
    return queue


async def get_review_store(request: Request) -> ReviewStore:
    require_review(request)
    store: ReviewStore = request.app.state.review_queue.store
    return store


async def get_reviewer(request: Request) -> str:
    """The reviewer's name (see security.reviewer_of); review off is said before any key is asked for."""
    require_review(request)
    settings: Settings = request.app.state.settings
    return reviewer_of(request, settings.api_keys, settings.reviewer_keys)


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
ReadersDep = Annotated[Readers, Depends(get_readers)]
StrokesDep = Annotated[StrokeClassifier | None, Depends(get_strokes)]
RecognitionDep = Annotated[Recognition, Depends(get_recognition)]
ClassifierDep = Annotated[Classifier, Depends(get_classifier)]
ReviewQueueDep = Annotated[ReviewQueue, Depends(get_review_queue)]
ReviewStoreDep = Annotated[ReviewStore, Depends(get_review_store)]
ReviewerDep = Annotated[str, Depends(get_reviewer)]
CharsetParam = Annotated[
    str,
    Query(
        description="what to read: digits (the default: `digit` and its ten probabilities), letters, "
        "alphanumeric, or the digits of devanagari, arabic-indic or persian (trained on fonts only); an "
        "unknown name is a 422",
        examples=list(CHARSETS),
    ),
]
ExplainParam = Annotated[
    bool, Query(description="add a Grad-CAM heatmap: where in the image the evidence for the digit lies")
]
