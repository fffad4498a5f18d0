"""Named dependencies the routes declare; tests can override any of them.

All are `async def`: FastAPI runs a plain `def` dependency in its thread pool, a thread hop per
dependency per request (measured: most of the server's overhead), and none of these ever blocks.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from rthdr.api.batcher import Predictor
from rthdr.api.settings import Settings
from rthdr.core.inference import Classifier, OneDigitCheck


async def get_app_settings(request: Request) -> Settings:
    """The settings this app was created with (create_app stores them; tests pass their own)."""
    settings: Settings = request.app.state.settings
    return settings


async def get_predictor(request: Request) -> Predictor:
    predictor: Predictor = request.app.state.predictor
    return predictor


async def get_one_digit(request: Request) -> OneDigitCheck | None:
    """The one-digit check for reading numbers, or None where the service has none."""
    check: OneDigitCheck | None = request.app.state.one_digit
    return check


async def get_classifier(request: Request) -> Classifier:
    classifier: Classifier = request.app.state.predictor.classifier
    return classifier


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
PredictorDep = Annotated[Predictor, Depends(get_predictor)]
ClassifierDep = Annotated[Classifier, Depends(get_classifier)]
OneDigitDep = Annotated[OneDigitCheck | None, Depends(get_one_digit)]
ExplainParam = Annotated[
    bool, Query(description="add a Grad-CAM heatmap: where in the image the evidence for the digit lies")
]
