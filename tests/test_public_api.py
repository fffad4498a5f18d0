"""`from rthdr import ...`: what a library user types, on the golden inputs."""

from __future__ import annotations

import json
from importlib.metadata import version

import numpy as np
import pytest

import rthdr
from rthdr import Classifier, InputError, OneDigitCheck, read_digit, read_number
from tests.helpers.paths import ROOT

GOLDEN = ROOT / "tests" / "fixtures" / "golden"
EXPECTED = json.loads((GOLDEN / "expected.json").read_text())


def test_the_public_names_and_the_installed_version() -> None:
    assert sorted(rthdr.__all__) == sorted(name for name in rthdr.__all__ if hasattr(rthdr, name))
    assert rthdr.__version__ == version("rthdr")


@pytest.mark.parametrize("name", ["photo-2-shadow.jpg", "canvas-7.png", "upload-light-on-dark-5.png"])
def test_read_digit_takes_a_path_or_bytes(name: str) -> None:
    path = GOLDEN / "inputs" / name
    by_path, by_bytes = read_digit(path), read_digit(path.read_bytes())
    assert by_path.digit == by_bytes.digit == EXPECTED[name]["digit"]
    assert by_path.probabilities.tobytes() == by_bytes.probabilities.tobytes()
    assert read_digit(str(path), Classifier()).digit == by_path.digit


def test_read_digit_takes_mnist_pixels(digit_samples: dict[int, np.ndarray]) -> None:
    assert [read_digit(digit_samples[d]).digit for d in range(10)] == list(range(10))


def test_read_number_takes_a_path() -> None:
    name = next(n for n, e in EXPECTED.items() if e.get("text") == "449794")
    assert read_number(GOLDEN / "inputs" / name, one_digit=OneDigitCheck()).text == "449794"


def test_bad_input_raises_an_error_that_says_what_to_send() -> None:
    with pytest.raises(InputError) as caught:
        read_digit(b"not an image")
    assert caught.value.code == "invalid_image" and "PNG" in caught.value.message
