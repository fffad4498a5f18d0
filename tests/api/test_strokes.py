"""Pen strokes over HTTP: a digit sent as its strokes alone or with its picture, read by the image and
stroke models and fused, saying what each source said; a number grouped into characters by its
strokes; letters likewise with the character models, other scripts' digits from the picture alone,
saying so; and bad strokes a 422 with a JSON error after which the service keeps serving."""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from rthdr.api.main import create_app
from rthdr.api.settings import Settings
from rthdr.core.errors import ModelError
from rthdr.core.inference import DEFAULT_CHARACTER_STROKE_MODEL, DEFAULT_STROKE_MODEL, StrokeClassifier
from rthdr.core.strokes import PEN, render
from rthdr.data import hershey
from rthdr.data.trace import trace
from tests.helpers.images import encode

PREDICT, RECOGNIZE = "/api/v1/predict", "/api/v1/recognize"


def as_json(strokes: list[np.ndarray], scale: float = 10.0) -> list[list[list[float]]]:
    """Traced strokes (MNIST pixels) as a page sends them: canvas pixels, ten times larger."""
    return [[[round(float(x) * scale, 1), round(float(y) * scale, 1)] for x, y in s] for s in strokes]


@pytest.fixture(scope="module")
def traced_digits(digit_samples: dict[int, np.ndarray]) -> dict[int, list[np.ndarray]]:
    return {digit: trace(image) for digit, image in digit_samples.items()}


def test_the_stroke_models_ship() -> None:
    assert DEFAULT_STROKE_MODEL.is_file(), f"{DEFAULT_STROKE_MODEL}: train it with `rthdr train-strokes`"
    assert DEFAULT_CHARACTER_STROKE_MODEL.is_file(), (
        "train it with `rthdr train-strokes --corpus data/corpus.npz`"
    )


def test_a_digit_sent_as_its_strokes_alone_is_read_from_both_sources(client, traced_digits) -> None:
    right = 0
    for digit, strokes in traced_digits.items():
        body = client.post(PREDICT, json={"strokes": as_json(strokes)}).json()
        sources = body["sources"]
        assert sources["image_sent"] is False and 0 < sources["image_weight"] < 1
        assert (
            sources["fused"]["digit"] == body["digit"]
            and sources["fused"]["confidence"] == body["confidence"]
        )
        assert len(body["probabilities"]) == 10 and body["preprocessed"].startswith("data:image/png")
        right += body["digit"] == digit
    assert right >= 9, f"{right} of 10 traced MNIST digits read right from their strokes"


def test_strokes_with_the_picture_fuse_with_the_image_it_sent(client, traced_digits, digit_samples) -> None:
    picture = "data:image/png;base64," + base64.b64encode(encode(255 - digit_samples[3])).decode()
    body = client.post(PREDICT, json={"image": picture, "strokes": as_json(traced_digits[3], 1.0)}).json()
    assert body["digit"] == 3 and body["sources"]["image_sent"] is True
    assert body["sources"]["image"]["digit"] == 3 and body["sources"]["strokes"]["digit"] == 3
    alone = client.post(PREDICT, json={"image": picture}).json()
    assert alone["sources"] is None and alone["digit"] == 3  # a picture alone: as before


def test_a_number_drawn_stroke_by_stroke_is_grouped_by_its_strokes(client, traced_digits) -> None:
    """The digits of 4071 drawn side by side, touching: grouped by drawing order, no cut guessed."""
    strokes: list[np.ndarray] = []
    for place, digit in enumerate((4, 0, 7, 1)):
        strokes += [
            s + np.array([place * 17.0, 0]) for s in traced_digits[digit]
        ]  # 17 of 28 pixels apart: touching
    body = client.post(RECOGNIZE, json={"strokes": as_json(strokes)}).json()
    assert body["segmented_by"] == "strokes" and body["text"] == "4071", body["text"]
    lefts = [d["box"][0] for d in body["digits"]]
    assert lefts == sorted(lefts) and lefts[0] < 100  # in the strokes' own pixels
    picture = client.post(RECOGNIZE, files={"image": ("n.png", encode(255 - render(strokes)), "image/png")})
    assert picture.json()["segmented_by"] == "image"


def test_stroke_boxes_hold_the_ink_around_the_points(client) -> None:
    """A 1 drawn as one vertical line: its box is as wide as the pen, not a line of no width."""
    one, seven = [[100.0, 40.0], [100.0, 220.0]], [[160.0, 40.0], [240.0, 40.0], [190.0, 220.0]]
    body = client.post(RECOGNIZE, json={"strokes": [one, seven]}).json()
    assert body["segmented_by"] == "strokes" and len(body["digits"]) == 2
    pen = PEN * 180  # of the number's height
    (x, y, w, h), (x7, _, w7, _) = (d["box"] for d in body["digits"])
    assert abs(w - pen) <= 1 and abs(h - (180 + pen)) <= 1
    assert abs(x - (100 - pen / 2)) <= 1 and abs(y - (40 - pen / 2)) <= 1
    assert abs(x7 - (160 - pen / 2)) <= 1 and abs(w7 - (80 + pen)) <= 1


def test_a_letter_sent_as_strokes_is_read_from_both_sources(client) -> None:
    a = [[[0, 100], [50, 0], [100, 100]], [[25, 55], [75, 55]]]
    body = client.post(PREDICT, params={"charset": "letters"}, json={"strokes": a}).json()
    sources = body["sources"]
    assert body["character"] == "A" and sources["strokes"]["character"] == "A"
    assert sources["fused"] == {"character": "A", "digit": None, "confidence": body["confidence"]}
    assert sources["image_weight"] == StrokeClassifier(DEFAULT_CHARACTER_STROKE_MODEL).fusion_in("letters")[0]


def test_in_digits_a_letter_drawn_with_a_pen_is_checked_from_its_strokes_too(client, corpus_fonts) -> None:
    """An S in Hershey's rowmand (a font held out of training), sent as its strokes in digits mode:
    its picture alone passes for a 5, its strokes tip it to a letter (CHECK_IMAGE_WEIGHT)."""
    strokes = [[[float(x), float(y)] for x, y in s] for s in hershey.load("rowmand")["S"].strokes]
    body = client.post(PREDICT, json={"strokes": strokes}).json()
    assert body["reason"] == "not_a_digit" and body["looks_like"] == "S" and body["uncertain"] is True, body
    picture = encode(render([np.array(s) for s in strokes]))
    alone = client.post(PREDICT, files={"image": ("u.png", picture, "image/png")}).json()
    assert alone["reason"] != "not_a_digit", alone


def test_a_word_drawn_stroke_by_stroke_is_grouped_and_read_as_letters(client, corpus_fonts) -> None:
    """KEY in Hershey's simplex Roman, each glyph's strokes a pen's, side by side. (The fonts held out
    of training are duplex: their thick strokes are drawn twice, side by side, as no pen draws.)"""
    font = hershey.load("futural")
    strokes, left = [], 0.0
    for letter in "KEY":
        glyph = [s.astype(np.float64) for s in font[letter].strokes]
        shift = left - min(float(s[:, 0].min()) for s in glyph)
        strokes += [s + np.array([shift, 0.0]) for s in glyph]
        left = max(float(s[:, 0].max()) for s in strokes) + 6
    body = client.post(RECOGNIZE, params={"charset": "letters"}, json={"strokes": as_json(strokes)}).json()
    assert body["segmented_by"] == "strokes" and body["text"] == "KEY", body


def test_other_scripts_strokes_are_only_drawn_and_the_answer_says_why(client) -> None:
    one = [[[40, 20], [60, 10], [55, 120]]]
    body = client.post(PREDICT, params={"charset": "devanagari"}, json={"strokes": one}).json()
    sources = body["sources"]
    assert sources["strokes"] is None and sources["fused"] is None
    assert "no stroke model reads devanagari" in sources["strokes_unread"]
    assert sources["image"]["character"] == body["character"]


def test_a_character_stroke_model_of_other_classes_is_refused_at_start(model_path: Path) -> None:
    settings = Settings(model=model_path, character_stroke_model=DEFAULT_STROKE_MODEL)  # digits only
    with pytest.raises(ModelError, match="other classes"), TestClient(create_app(settings)):
        pass


@pytest.mark.parametrize("url", [PREDICT, RECOGNIZE])
@pytest.mark.parametrize(
    "body",
    [
        {"strokes": []},
        {"strokes": [[[1, 2]], [[3]]]},
        {"strokes": [[["x", 2]]]},
        {"strokes": [[[1e300, 2]]]},
        {"strokes": [[[0, 0]]] * 65},
    ],
)
def test_bad_strokes_are_a_422_and_the_service_keeps_serving(client, url: str, body: dict) -> None:
    response = client.post(url, json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_strokes" and "[x, y]" in error["message"]
    assert client.post(PREDICT, json={"strokes": [[[40, 35], [120, 35], [70, 130]]]}).json()["digit"] == 7


def test_nan_in_strokes_is_refused_as_invalid(client) -> None:
    response = client.post(
        PREDICT, content=b'{"strokes": [[[NaN, 1], [2, 3]]]}', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_strokes"


def test_a_picture_and_pixels_together_are_refused(client) -> None:
    response = client.post(PREDICT, json={"image": "data:image/png;base64,AAAA", "pixels": [[0] * 28] * 28})
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_request"


def test_without_a_stroke_model_strokes_are_only_drawn(model_path: Path, tmp_path: Path) -> None:
    with TestClient(create_app(Settings(model=model_path, stroke_model=tmp_path / "absent.onnx"))) as client:
        body = client.post(PREDICT, json={"strokes": [[[40, 35], [120, 35], [70, 130]]]}).json()
    assert body["digit"] == 7 and body["sources"]["strokes"] is None and body["sources"]["fused"] is None
