"""Liveness, readiness, the model card, and what the page may offer (on-device mode, review)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse
from starlette.exceptions import HTTPException

from rthdr.api.dependencies import ClassifierDep, SettingsDep, StrokesDep
from rthdr.api.schemas import ModelCard, OnDevice, ReviewStatus, Status, error_responses

TEMPERATURE_HEADER = "X-Model-Temperature"  # the file's calibration (see rthdr.core.inference.Classifier)
STROKE_MODEL_HEADER = "X-Stroke-Model"  # on the model file: the stroke model's path, where there is one
IMAGE_WEIGHT_HEADER = "X-Fusion-Image-Weight"  # on the stroke model: see rthdr.core.inference.fuse
STROKE_MODEL_PATH = "/api/v1/model/strokes/file"
CACHE = {"Cache-Control": "public, max-age=3600"}

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
    classifier: ClassifierDep, stroke_model: StrokesDep, variant: ModelVariant = "best"
) -> FileResponse:
    """`best`: the INT8 model beside the served one if there is one (a quarter of the download),
    else the served model itself; `served`: always the model the server runs. Where the server
    fuses drawings with their strokes, a header names the stroke model, so the page does too."""
    int8 = classifier.path.with_suffix(".int8.onnx")
    path = int8 if variant == "best" and int8.is_file() else classifier.path
    # the page calibrates its answers as the server does (rthdr.core.inference.calibrated)
    headers = {**CACHE, TEMPERATURE_HEADER: str(classifier.temperature)}
    if stroke_model is not None:
        headers[STROKE_MODEL_HEADER] = STROKE_MODEL_PATH
    return FileResponse(path, media_type="application/octet-stream", filename=path.name, headers=headers)


@router.get(
    STROKE_MODEL_PATH,
    tags=["recognition"],
    summary="The ONNX stroke model, for fusing drawings with their strokes in the browser",
    response_class=FileResponse,
    responses={200: {"content": {"application/octet-stream": {}}}, **error_responses(404)},
)
async def stroke_model_file(stroke_model: StrokesDep) -> FileResponse:
    """The model the server reads strokes with, and (a header) the image model's weight when the two
    are fused; 404 where the server has none (strokes are then only drawn for the image model)."""
    if stroke_model is None:
        raise HTTPException(404, "This server has no stroke model (RTHDR_STROKE_MODEL names its file).")
    return FileResponse(
        stroke_model.path,
        media_type="application/octet-stream",
        filename=stroke_model.path.name,
        headers={**CACHE, IMAGE_WEIGHT_HEADER: str(stroke_model.image_weight)},
    )


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
