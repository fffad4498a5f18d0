"""Named dependencies the routes declare; tests can override any of them."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from rthdr.api.batcher import Predictor
from rthdr.api.settings import Settings
from rthdr.inference import Classifier


def get_app_settings(request: Request) -> Settings:
    """The settings this app was created with (create_app stores them; tests pass their own)."""
    settings: Settings = request.app.state.settings
    return settings


def get_predictor(request: Request) -> Predictor:
    predictor: Predictor = request.app.state.predictor
    return predictor


def get_classifier(request: Request) -> Classifier:
    classifier: Classifier = request.app.state.predictor.classifier
    return classifier


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
PredictorDep = Annotated[Predictor, Depends(get_predictor)]
ClassifierDep = Annotated[Classifier, Depends(get_classifier)]
ExplainParam = Annotated[
    bool, Query(description="add a Grad-CAM heatmap: where in the image the evidence for the digit lies")
]
