"""The explainer graphs for the page: named on each model file whose network has one, served as they
are, and a 404 in the API's error format where a network has none (its heatmaps are then Grad-CAM
alone, on the server too)."""

from __future__ import annotations

import base64
from pathlib import Path

from fastapi.testclient import TestClient

from rthdr.api.main import create_app
from rthdr.api.settings import Settings
from rthdr.core.explain import GRAD_CAM
from rthdr.core.inference import Classifier
from tests.helpers.images import encode, render

MODEL_FILE, CHARACTER_MODEL_FILE = "/api/v1/model/file", "/api/v1/model/characters/file"
EXPLAINER, CHARACTER_EXPLAINER = (
    "/api/v1/model/explainer/file",
    "/api/v1/model/explainer/file?model=characters",
)


def test_the_page_gets_each_models_explainer(client, model_path: Path) -> None:
    for model_file, explainer, served in (
        (MODEL_FILE, EXPLAINER, Classifier(model_path)),
        (CHARACTER_MODEL_FILE, CHARACTER_EXPLAINER, Classifier(Settings().character_model)),
    ):
        assert client.get(model_file).headers["x-explainer-model"] == explainer
        response = client.get(explainer)
        assert response.status_code == 200 and response.content == served.explainer_path.read_bytes()
        assert response.headers["content-type"] == "application/octet-stream"
        assert served.explainer_path.name in response.headers["content-disposition"]


def test_a_network_without_an_explainer_is_explained_by_grad_cam(
    model_path: Path, tmp_path: Path, digit_samples
) -> None:
    lone = tmp_path / model_path.name  # the served file, without its explainer beside it
    lone.write_bytes(model_path.read_bytes())
    with TestClient(create_app(Settings(model=lone))) as client:
        assert "x-explainer-model" not in client.get(MODEL_FILE).headers
        response = client.get(EXPLAINER)
        image = ("d.png", encode(render(digit_samples[2])), "image/png")
        answer = client.post("/api/v1/predict?explain=true", files={"image": image}).json()
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "not_found" and "rthdr export --explainer" in error["message"]
    assert answer["digit"] == 2 and answer["heatmap"]["method"] == GRAD_CAM
    assert base64.b64decode(answer["heatmap"]["image"].split(",", 1)[1])


def test_an_unknown_model_is_a_422(client) -> None:
    response = client.get(EXPLAINER, params={"model": "strokes"})
    assert response.status_code == 422 and response.json()["error"]["message"]
