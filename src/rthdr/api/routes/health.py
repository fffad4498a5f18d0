"""Liveness, readiness, the model card, and what the page may offer (on-device mode, review)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse
from starlette.exceptions import HTTPException

from rthdr.api.dependencies import (
    ClassifierDep,
    Readers,
    ReadersDep,
    RecognitionDep,
    SettingsDep,
    StrokesDep,
)
from rthdr.api.schemas import ModelCard, OnDevice, ReviewStatus, Status, error_responses
from rthdr.core.charsets import CHARSETS, DEFAULT_CHARSET, SCRIPT_CHARSETS
from rthdr.core.inference import Classifier

TEMPERATURE_HEADER = "X-Model-Temperature"  # the file's calibration (see rthdr.core.inference.Classifier)
STROKE_MODEL_HEADER = "X-Stroke-Model"  # on the model file: the stroke model's path, where there is one
IMAGE_WEIGHT_HEADER = "X-Fusion-Image-Weight"  # on the stroke model: see rthdr.core.inference.fuse
CHARACTER_MODEL_HEADER = "X-Character-Model"  # on the model file: the character model's, likewise
CLASSES_HEADER = "X-Model-Classes"  # on the character model: its class names, a JSON list
CHARACTER_STROKE_MODEL_HEADER = "X-Character-Stroke-Model"  # on the character model: the path of its
# stroke model, where there is one
FUSION_CHARSETS_HEADER = "X-Fusion-Charsets"  # on that model: {charset: {image_weight, temperature}}, JSON
EXPLAINER_HEADER = "X-Explainer-Model"  # on either: its explainer graph's path, where it has one
STROKE_MODEL_PATH = "/api/v1/model/strokes/file"
CHARACTER_MODEL_PATH = "/api/v1/model/characters/file"
CHARACTER_STROKE_MODEL_PATH = "/api/v1/model/characters/strokes/file"
# The charsets the character stroke model is fused in (rthdr.api.dependencies.StrokeModels.for_charset).
CHARACTER_STROKE_CHARSETS = tuple(c for c in CHARSETS if c != DEFAULT_CHARSET and c not in SCRIPT_CHARSETS)
EXPLAINER_PATH = "/api/v1/model/explainer/file"
CHARACTER_EXPLAINER_PATH = EXPLAINER_PATH + "?model=characters"
CACHE = {"Cache-Control": "public, max-age=3600"}
MODEL_FILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/octet-stream": {}}},
    **error_responses(404),
}

router = APIRouter(tags=["operations"])
ModelVariant = Literal["best", "served"]


@router.get("/healthz", response_model=Status, summary="Alive: the process answers")
async def healthz() -> Status:
    return Status(status="ok")


@router.get(
    "/readyz",
    response_model=Status,
    summary="Ready: the model is loaded and answers",
    responses={503: {"model": Status}},
)
async def readyz(request: Request) -> Any:
    predictor = getattr(request.app.state, "predictor", None)
    if predictor is None:
        return JSONResponse({"status": "loading"}, status_code=503)
    return Status(status="ready")


@router.get(
    "/api/v1/model",
    response_model=ModelCard,
    tags=["recognition"],
    summary="The model card: architecture, training, measured accuracy",
)
async def model_card(classifier: ClassifierDep) -> dict[str, Any]:
    return classifier.card


@router.get(
    "/api/v1/model/file",
    tags=["recognition"],
    summary="The ONNX model itself, for on-device recognition in the browser",
    response_class=FileResponse,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
async def model_file(
    classifier: ClassifierDep, readers: ReadersDep, stroke_model: StrokesDep, variant: ModelVariant = "best"
) -> FileResponse:
    """`best`: the INT8 model beside the served one if there is one (a quarter of the download),
    else the served model itself; `served`: always the model the server runs. Headers name the
    stroke model where the server fuses drawings with their strokes, and the character model where
    it checks that a digit is one, so the page does too, and its explainer graph where it has one."""
    headers = explainer_header(classifier, EXPLAINER_PATH)
    if stroke_model is not None:
        headers[STROKE_MODEL_HEADER] = STROKE_MODEL_PATH
    if readers.characters is not None:
        headers[CHARACTER_MODEL_HEADER] = CHARACTER_MODEL_PATH
    return model_download(classifier.path, classifier.temperature, variant, headers)


@router.get(
    CHARACTER_MODEL_PATH,
    tags=["recognition"],
    summary="The ONNX character model, for letters and the not-a-digit check in the browser",
    response_class=FileResponse,
    responses=MODEL_FILE_RESPONSES,
)
async def character_model_file(models: RecognitionDep, variant: ModelVariant = "best") -> FileResponse:
    """The model the server reads letters with and checks digits with, `variant` as for the model
    file, and (headers) its temperature and class names, and the stroke model it is fused with where
    the server has one; 404 where the server has none (it then serves charset digits only, unchecked)."""
    classifier = character_classifier(models.readers)
    classes = json.dumps(classifier.classes)  # escapes any non-ASCII: a header is Latin-1
    headers = {CLASSES_HEADER: classes, **explainer_header(classifier, CHARACTER_EXPLAINER_PATH)}
    if models.strokes.characters is not None:
        headers[CHARACTER_STROKE_MODEL_HEADER] = CHARACTER_STROKE_MODEL_PATH
    return model_download(classifier.path, classifier.temperature, variant, headers)


@router.get(
    CHARACTER_STROKE_MODEL_PATH,
    tags=["recognition"],
    summary="The ONNX character stroke model, for fusing letters with their strokes in the browser",
    response_class=FileResponse,
    responses=MODEL_FILE_RESPONSES,
)
async def character_stroke_model_file(models: RecognitionDep) -> FileResponse:
    """The model the server reads letters' strokes with (strokenet-chars), and (headers) for each
    charset it is fused in the character model's weight and the fused probabilities' temperature
    (rthdr.core.inference.StrokeClassifier.fusion_in); 404 where the server has none (letters'
    strokes are then only drawn for the character model)."""
    stroke_model = models.strokes.characters
    if stroke_model is None:
        raise HTTPException(
            404,
            "This server has no character stroke model (RTHDR_CHARACTER_STROKE_MODEL names its file).",
        )
    fusion = {
        charset: dict(zip(("image_weight", "temperature"), stroke_model.fusion_in(charset), strict=True))
        for charset in CHARACTER_STROKE_CHARSETS
    }
    headers = {FUSION_CHARSETS_HEADER: json.dumps(fusion)}
    return model_download(stroke_model.path, stroke_model.temperature, "served", headers)


def explainer_header(classifier: Classifier, path: str) -> dict[str, str]:
    return {EXPLAINER_HEADER: path} if classifier.explainer is not None else {}


@router.get(
    EXPLAINER_PATH,
    tags=["recognition"],
    summary="A model's explainer graph, for Guided Grad-CAM heatmaps in the browser",
    response_class=FileResponse,
    responses=MODEL_FILE_RESPONSES,
)
async def explainer_file(
    classifier: ClassifierDep, readers: ReadersDep, model: Literal["digits", "characters"] = "digits"
) -> FileResponse:
    """The guided backpropagation graph (rthdr.core.explain) of the digit model's network, or of the
    character model's; 404 where the server has no such model or it has no explainer (its heatmaps
    are then Grad-CAM alone)."""
    explained = classifier if model == "digits" else character_classifier(readers)
    if explained.explainer is None:
        raise HTTPException(
            404,
            f"{explained.path.name} has no explainer graph beside it (`rthdr export --explainer` writes one).",
        )
    path = explained.explainer_path
    return FileResponse(path, media_type="application/octet-stream", filename=path.name, headers=CACHE)


def character_classifier(readers: Readers) -> Classifier:
    if readers.characters is None:
        raise HTTPException(404, "This server has no character model (RTHDR_CHARACTER_MODEL names its file).")
    return readers.characters.classifier


def model_download(
    served: Path, temperature: float, variant: ModelVariant, headers: dict[str, str]
) -> FileResponse:
    """A model file for the page: the INT8 one beside `served` for `best` where there is one, with
    the temperature the page calibrates its answers with (rthdr.core.inference.calibrated; for the
    stroke model, the fused answers')."""
    int8 = served.with_suffix(".int8.onnx")
    path = int8 if variant == "best" and int8.is_file() else served
    headers = {**CACHE, TEMPERATURE_HEADER: str(temperature), **headers}
    return FileResponse(path, media_type="application/octet-stream", filename=path.name, headers=headers)


@router.get(
    STROKE_MODEL_PATH,
    tags=["recognition"],
    summary="The ONNX stroke model, for fusing drawings with their strokes in the browser",
    response_class=FileResponse,
    responses=MODEL_FILE_RESPONSES,
)
async def stroke_model_file(stroke_model: StrokesDep) -> FileResponse:
    """The model the server reads strokes with, and (headers) the image model's weight when the two
    are fused and the fused probabilities' temperature (rthdr.core.inference.StrokeClassifier.fused);
    404 where the server has none (strokes are then only drawn for the image model)."""
    if stroke_model is None:
        raise HTTPException(404, "This server has no stroke model (RTHDR_STROKE_MODEL names its file).")
    weight = {IMAGE_WEIGHT_HEADER: str(stroke_model.image_weight)}
    return model_download(stroke_model.path, stroke_model.temperature, "served", weight)


@router.get(
    "/api/v1/on-device",
    response_model=OnDevice,
    tags=["recognition"],
    summary="Can the page recognise in the browser? (whether ONNX Runtime Web is served)",
)
async def on_device(settings: SettingsDep) -> OnDevice:
    return OnDevice(available=settings.on_device_available)


@router.get(
    "/api/v1/reviews/status",
    response_model=ReviewStatus,
    tags=["review"],
    summary='Is review on? (whether the page offers "Wrong? Correct it" and the review view)',
)
async def review_status(settings: SettingsDep) -> ReviewStatus:
    """Open, like /api/v1/on-device: the page asks before it knows any key."""
    return ReviewStatus(
        enabled=settings.review, reviewer_key_required=bool(settings.api_keys or settings.reviewer_keys)
    )
