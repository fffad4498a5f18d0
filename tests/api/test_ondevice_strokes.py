"""The stroke model for the page: served to the browser with the weight the server fuses with, named on
the image model's file where the server has one, and a 404 in the API's error format where not."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from rthdr.api.main import create_app
from rthdr.api.settings import Settings
from rthdr.core.inference import StrokeClassifier

MODEL_FILE, STROKE_MODEL_FILE = "/api/v1/model/file", "/api/v1/model/strokes/file"


def test_the_page_gets_the_stroke_model_the_server_fuses_with(client) -> None:
    served = StrokeClassifier(Settings().stroke_model)  # the client's: the settings' default
    assert client.get(MODEL_FILE).headers["x-stroke-model"] == STROKE_MODEL_FILE
    response = client.get(STROKE_MODEL_FILE)
    assert response.status_code == 200 and response.content == served.path.read_bytes()
    assert response.headers["content-type"] == "application/octet-stream"
    assert float(response.headers["x-fusion-image-weight"]) == served.image_weight == 0.2
    assert float(response.headers["x-model-temperature"]) == served.temperature
    assert response.headers["cache-control"] == client.get(MODEL_FILE).headers["cache-control"]


def test_without_a_stroke_model_the_page_is_told_and_not_served_one(model_path: Path, tmp_path: Path) -> None:
    settings = Settings(model=model_path, stroke_model=tmp_path / "absent.onnx")
    with TestClient(create_app(settings)) as client:
        assert "x-stroke-model" not in client.get(MODEL_FILE).headers
        response = client.get(STROKE_MODEL_FILE)
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "not_found" and "no stroke model" in error["message"]
