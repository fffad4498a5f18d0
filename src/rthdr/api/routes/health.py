"""Liveness, readiness and the model card."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from rthdr.api.dependencies import ClassifierDep
from rthdr.api.schemas import ModelCard, Status

router = APIRouter(tags=["operations"])


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
