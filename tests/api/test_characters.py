"""Character sets over HTTP, with the shipped models: letters read as letters, a letter sent as a
digit answered "not a digit", a line of characters with its word gap, other scripts' digits read by
the script model, and every bad charset a 422 with a JSON error after which the service keeps serving."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from rthdr.api.main import create_app
from rthdr.api.settings import Settings
from rthdr.core.charsets import CHARSETS
from rthdr.core.explain import GUIDED_GRAD_CAM
from rthdr.core.inference import DEFAULT_CHARACTER_MODEL, DEFAULT_SCRIPT_MODEL
from rthdr.evaluation.explanations import heat_near_ink
from tests.helpers.images import data_url_pixels, encode, render, written_text

PREDICT, RECOGNIZE = "/api/v1/predict", "/api/v1/recognize"
# Capitals in a serif family held out of the character model's training (rthdr.data.fonts.VALIDATION).
LETTERS = "AEFHKRTW"


def post(client, url: str, png: bytes, **params: str):
    return client.post(url, params=params, files={"image": ("image.png", png, "image/png")})


def assert_error(response, code: str) -> None:
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == code and response.json()["error"]["message"]


def test_the_character_model_ships() -> None:
    assert DEFAULT_CHARACTER_MODEL.is_file(), f"{DEFAULT_CHARACTER_MODEL}: release it (docs/characters.md)"


@pytest.mark.parametrize("letter", LETTERS)
def test_a_letter_is_read_as_that_letter_in_letters_mode(client, letter: str) -> None:
    body = post(client, PREDICT, written_text(letter), charset="letters").json()
    assert body["charset"] == "letters" and body["character"] == letter
    assert body["digit"] is None and body["probabilities"] is None
    assert body["model"]["name"].startswith("charnet")
    candidates = body["candidates"]
    assert len(candidates) == 5 and candidates[0] == {"character": letter, "probability": body["confidence"]}
    assert all(c["character"] in CHARSETS["letters"] for c in candidates)
    assert [c["probability"] for c in candidates] == sorted(
        (c["probability"] for c in candidates), reverse=True
    )


def test_letters_sent_as_digits_are_answered_not_a_digit(client) -> None:
    flagged = 0
    for letter in LETTERS:
        body = post(client, PREDICT, written_text(letter)).json()
        assert body["charset"] == "digits" and isinstance(body["digit"], int)  # today's fields stay
        assert body["character"] == str(body["digit"]) and len(body["probabilities"]) == 10
        if body["reason"] == "not_a_digit":
            assert body["uncertain"] is True
            assert body["looks_like"] in (None, *CHARSETS["letters"])
            flagged += body["looks_like"] == letter
    assert flagged >= len(LETTERS) - 1, f"only {flagged} of {len(LETTERS)} letters flagged as themselves"


def test_digits_stay_digits(client, digit_samples) -> None:
    for digit in range(10):
        body = post(client, PREDICT, encode(render(digit_samples[digit]))).json()
        assert body["digit"] == digit and body["character"] == str(digit)
        assert body["reason"] != "not_a_digit", f"MNIST's {digit} answered not a digit"
    body = post(client, PREDICT, encode(render(digit_samples[7])), charset="alphanumeric").json()
    assert body["character"] == "7" and body["digit"] == 7 and body["probabilities"] is None


def test_a_line_of_characters_is_read_with_its_word_gap(client) -> None:
    body = post(client, RECOGNIZE, written_text("FH 47"), charset="alphanumeric").json()
    assert body["charset"] == "alphanumeric" and body["text"] == "FH 47"
    assert [c["character"] for c in body["characters"]] == list("FH47") and body["digits"] is None
    lefts = [c["box"][0] for c in body["characters"]]
    assert lefts == sorted(lefts)


def test_a_number_still_reads_as_before_with_its_characters(client, digit_samples) -> None:
    from tests.helpers.images import write_number

    page, _ = write_number(digit_samples, "305")
    body = post(client, RECOGNIZE, encode(page)).json()
    assert body["text"] == "305" and [d["digit"] for d in body["digits"]] == [3, 0, 5]
    assert [c["character"] for c in body["characters"]] == ["3", "0", "5"]


@pytest.mark.parametrize("url", [PREDICT, RECOGNIZE])
@pytest.mark.parametrize("charset", ["klingon", "", "DIGITS", "letters,digits"])
def test_an_unknown_charset_is_a_422_and_the_service_keeps_serving(
    client, digit_samples, url, charset
) -> None:
    assert_error(post(client, url, encode(render(digit_samples[3])), charset=charset), "unknown_charset")
    assert post(client, PREDICT, encode(render(digit_samples[3]))).json()["digit"] == 3


def test_without_a_character_model_only_digits_are_served(
    model_path: Path, tmp_path: Path, digit_samples
) -> None:
    settings = Settings(model=model_path, character_model=tmp_path / "absent.onnx")
    with TestClient(create_app(settings)) as client:
        for url in (PREDICT, RECOGNIZE):
            assert_error(post(client, url, written_text("A"), charset="letters"), "charset_unavailable")
        body = post(client, PREDICT, written_text("A")).json()  # digits: answered, unchecked
        assert isinstance(body["digit"], int) and body["reason"] != "not_a_digit"
        assert post(client, PREDICT, encode(render(digit_samples[3]))).json()["digit"] == 3


# --- other scripts' digits: the script model, on font families it never trained on ----------------

# (charset, held-out family (rthdr.data.fonts.SCRIPT_VALIDATION), a number in that script)
SCRIPTS = [
    ("devanagari", "Sarai", "२०२६"),
    ("arabic-indic", "Harmattan", "٢٠٢٦"),
    ("persian", "Nazli", "۱۴۰۵"),
]


def test_the_script_model_ships() -> None:
    assert DEFAULT_SCRIPT_MODEL.is_file(), f"{DEFAULT_SCRIPT_MODEL}: release it (docs/characters.md)"


@pytest.mark.parametrize(("charset", "family", "_"), SCRIPTS)
def test_each_digit_of_a_script_is_read_as_itself(client, charset: str, family: str, _: str) -> None:
    right = 0
    for value, character in enumerate(CHARSETS[charset]):
        body = post(client, PREDICT, written_text(character, family), charset=charset).json()
        assert body["charset"] == charset and body["model"]["name"].startswith("scriptnet")
        assert all(c["character"] in CHARSETS[charset] for c in body["candidates"])
        assert body["probabilities"] is None and len(body["candidates"]) == 5
        if body["character"] == character:
            right += 1
            assert body["digit"] == value  # the digit's value, whatever its script
    assert right >= 9, f"{charset} in {family}: {right} of 10 digits read right"


@pytest.mark.parametrize(("charset", "family", "number"), SCRIPTS)
def test_a_number_in_a_script_is_read_as_a_line(client, charset: str, family: str, number: str) -> None:
    body = post(client, RECOGNIZE, written_text(number, family), charset=charset).json()
    assert body["charset"] == charset and body["text"] == number, body["text"]
    assert [c["character"] for c in body["characters"]] == list(number)


def test_without_a_script_model_the_scripts_are_refused(model_path: Path, tmp_path: Path) -> None:
    settings = Settings(model=model_path, script_model=tmp_path / "absent.onnx")
    with TestClient(create_app(settings)) as client:
        for url in (PREDICT, RECOGNIZE):
            response = post(client, url, written_text("७", "Sarai"), charset="devanagari")
            assert_error(response, "charset_unavailable")
            assert "RTHDR_SCRIPT_MODEL" in response.json()["error"]["message"]
        assert post(client, PREDICT, written_text("A"), charset="letters").json()["character"] == "A"


def test_a_letter_is_explained_on_its_strokes(client) -> None:
    """The character model has an explainer graph too: its heatmaps are Guided Grad-CAM, on the ink."""
    for letter in LETTERS:
        body = post(client, PREDICT, written_text(letter), charset="letters", explain="true").json()
        heatmap = body["heatmap"]
        assert body["character"] == letter and heatmap["method"] == GUIDED_GRAD_CAM
        on_ink = heat_near_ink(np.array(heatmap["values"]), data_url_pixels(body["preprocessed"]) / 255)
        assert on_ink >= 0.8, f"{letter}: {100 * on_ink:.1f} % of the heat within 2 px of the ink"
