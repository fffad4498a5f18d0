"""The character stroke model for the page: served to the browser with, for each charset it is fused
in, the weight and temperature the server fuses with, named on the character model's file where the
server has one, and a 404 in the API's error format where not."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from rthdr.api.main import create_app
from rthdr.api.settings import Settings
from rthdr.core.inference import StrokeClassifier

CHARACTER_MODEL_FILE = "/api/v1/model/characters/file"
CHARACTER_STROKE_MODEL_FILE = "/api/v1/model/characters/strokes/file"


def test_the_page_gets_the_character_stroke_model_the_server_fuses_letters_with(client) -> None:
    served = StrokeClassifier(Settings().character_stroke_model)  # the client's: the settings' default
    assert client.get(CHARACTER_MODEL_FILE).headers["x-character-stroke-model"] == CHARACTER_STROKE_MODEL_FILE
    response = client.get(CHARACTER_STROKE_MODEL_FILE)
    assert response.status_code == 200 and response.content == served.path.read_bytes()
    assert response.headers["content-type"] == "application/octet-stream"
    fusion = json.loads(response.headers["x-fusion-charsets"])
    assert set(fusion) == {"letters", "alphanumeric"}
    for charset, own in fusion.items():
        assert (own["image_weight"], own["temperature"]) == served.fusion_in(charset)
    # the card's own choices, each charset's (not one weight for both)
    assert fusion["letters"] != fusion["alphanumeric"]
    assert float(response.headers["x-model-temperature"]) == served.temperature
    assert response.headers["cache-control"] == client.get(CHARACTER_MODEL_FILE).headers["cache-control"]


def test_without_a_character_stroke_model_the_page_is_told_and_not_served_one(
    model_path: Path, tmp_path: Path
) -> None:
    settings = Settings(model=model_path, character_stroke_model=tmp_path / "absent.onnx")
    with TestClient(create_app(settings)) as client:
        named = client.get(CHARACTER_MODEL_FILE)
        response = client.get(CHARACTER_STROKE_MODEL_FILE)
    assert named.status_code == 200 and "x-character-stroke-model" not in named.headers
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "not_found" and "no character stroke model" in error["message"]
