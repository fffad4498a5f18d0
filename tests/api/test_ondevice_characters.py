"""The character model for the page: served to the browser with its temperature and class names,
named on the digit model's file where the server has one, and a 404 in the API's error format where
not."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from rthdr.api.main import create_app
from rthdr.api.settings import Settings
from rthdr.core.inference import Classifier

MODEL_FILE, CHARACTER_MODEL_FILE = "/api/v1/model/file", "/api/v1/model/characters/file"


def test_the_page_gets_the_character_model_the_server_reads_with(client) -> None:
    served = Classifier(Settings().character_model)  # the client's: the settings' default
    assert client.get(MODEL_FILE).headers["x-character-model"] == CHARACTER_MODEL_FILE
    for variant in ("best", "served"):  # no INT8 charnet ships: both are the file the server runs
        response = client.get(CHARACTER_MODEL_FILE, params={"variant": variant})
        assert response.status_code == 200 and response.content == served.path.read_bytes()
    assert not served.path.with_suffix(".int8.onnx").exists()
    assert response.headers["content-type"] == "application/octet-stream"
    assert served.path.name in response.headers["content-disposition"]
    assert float(response.headers["x-model-temperature"]) == served.temperature != 1
    classes = json.loads(response.headers["x-model-classes"])
    assert tuple(classes) == served.classes and len(classes) == 48 and classes[-1] == "none"
    assert response.headers["cache-control"] == client.get(MODEL_FILE).headers["cache-control"]


def test_an_int8_file_beside_it_is_preferred(model_path: Path, tmp_path: Path) -> None:
    """As for the digit model: `best` is the INT8 file beside the served one, where there is one."""
    served = Classifier(Settings().character_model)
    float_file = tmp_path / served.path.name
    float_file.write_bytes(served.path.read_bytes())
    (tmp_path / "charnet.card.json").write_bytes(served.path.with_name("charnet.card.json").read_bytes())
    int8 = float_file.with_suffix(".int8.onnx")
    int8.write_bytes(b"smaller")  # only served, never loaded by the server
    with TestClient(create_app(Settings(model=model_path, character_model=float_file))) as client:
        best = client.get(CHARACTER_MODEL_FILE)
        assert best.content == b"smaller" and int8.name in best.headers["content-disposition"]
        assert float(best.headers["x-model-temperature"]) == served.temperature
        assert (
            client.get(CHARACTER_MODEL_FILE, params={"variant": "served"}).content == float_file.read_bytes()
        )


def test_without_a_character_model_the_page_is_told_and_not_served_one(
    model_path: Path, tmp_path: Path
) -> None:
    settings = Settings(model=model_path, character_model=tmp_path / "absent.onnx")
    with TestClient(create_app(settings)) as client:
        assert "x-character-model" not in client.get(MODEL_FILE).headers
        response = client.get(CHARACTER_MODEL_FILE)
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "not_found" and "no character model" in error["message"]
