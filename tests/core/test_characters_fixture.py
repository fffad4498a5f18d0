"""What the server makes of the character model's probabilities, kept for the page's port
(static/characters.js, checked by tests/js/characters.test.js): the not-a-digit check and the digit
reading it flags, and readings in charsets letters and alphanumeric, for every reason each can give
and the ties. This test holds tests/fixtures/characters/readings.json to the Python code, so the
JavaScript is never checked against stale answers; RTHDR_WRITE_FIXTURES=1 rewrites it.

np.argsort, which orders digit_reading's candidates, leaves equal probabilities in no defined order
(a SIMD sort on some CPUs), so the digit model's probabilities here never tie; the character model's
do, where argmax and sorted() define the order."""

from __future__ import annotations

import json
import os
from dataclasses import asdict

import numpy as np

from rthdr.core.characters import CharacterReading, check_digit, digit_reading, read_character
from rthdr.core.charsets import DIGITS
from rthdr.core.inference import MODELS_DIR, predictions
from tests.helpers.paths import ROOT

FIXTURE = ROOT / "tests" / "fixtures" / "characters" / "readings.json"
CLASSES: tuple[str, ...] = tuple(json.loads((MODELS_DIR / "charnet.card.json").read_text())["classes"])


def vector(weights: dict[str, float], classes: tuple[str, ...] = CLASSES) -> np.ndarray:
    """Probabilities with `weights` on those classes, and the rest of the mass on the others in
    unequal shares (1, 2, 3 ... parts), so that none tie by accident."""
    others = [c for c in classes if c not in weights]
    parts = np.arange(1.0, len(others) + 1)
    rest = max(1 - sum(weights.values()), 0) * parts / parts.sum()
    p = dict(zip(others, rest, strict=True)) | weights
    return np.array([p[c] for c in classes])


# In charset digits: (what the character model says, what the digit model says); None: no character model.
DIGIT_CASES: dict[str, tuple[dict[str, float] | None, dict[str, float]]] = {
    "a clear 7": ({"7": 0.97}, {"7": 0.99}),
    "a letter A: not a digit, like an A": ({"A": 0.8}, {"4": 0.9}),
    "a scribble: not a digit, like nothing": ({"none": 0.9}, {"1": 0.6}),
    "letters outweigh the digits, none the likeliest: like nothing": (
        {"none": 0.35, "B": 0.3, "8": 0.2},
        {"8": 0.97},
    ),
    "half the mass outside the digits: not flagged": ({"2": 0.5, "Z": 0.25, "none": 0.25}, {"2": 0.99}),
    "just over half outside: flagged": ({"2": 0.4375, "Z": 0.3125, "none": 0.25}, {"2": 0.99}),
    "the character model reads a 1: the models disagree": ({"1": 0.9}, {"7": 0.98}),
    "disagreeing outranks low confidence": ({"1": 0.9}, {"7": 0.6, "1": 0.35}),
    "not a digit outranks disagreeing": ({"B": 0.7, "8": 0.2}, {"3": 0.55, "8": 0.4}),
    "the models agree, the digit model unsure: low confidence": ({"3": 0.9}, {"3": 0.6, "5": 0.38}),
    "O and Q tie: the first class is the lookalike": (
        {"O": 0.3, "Q": 0.3, "0": 0.2, "none": 0.1},
        {"0": 0.97},
    ),
    "a D ties with none: like nothing": ({"D": 0.3, "none": 0.3, "0": 0.2}, {"0": 0.97}),
    "the character model's 1 and 7 tie: its digit is the 1": ({"1": 0.45, "7": 0.45}, {"7": 0.97}),
    "all of it on one class, the rest nothing": ({"5": 1.0}, {"5": 0.999}),
    "no character model: a sure digit": (None, {"6": 0.99}),
    "no character model: an unsure one": (None, {"6": 0.7, "0": 0.29}),
}

# (charset, the character model's probabilities, its classes)
CHARSET_CASES: dict[str, tuple[str, dict[str, float], tuple[str, ...]]] = {
    "letters: a clear A": ("letters", {"A": 0.98}, CLASSES),
    "letters: a small b": ("letters", {"b": 0.97}, CLASSES),
    "letters: A or H, low confidence": ("letters", {"A": 0.6, "H": 0.3}, CLASSES),
    "letters: a 1, not a letter": ("letters", {"1": 0.7, "I": 0.2}, CLASSES),
    "letters: a scribble, not a character": ("letters", {"none": 0.6, "X": 0.3}, CLASSES),
    "letters: A and H tie, the first of the charset": ("letters", {"A": 0.45, "H": 0.45}, CLASSES),
    "letters: 0 ties with O, the first class, so not a letter": ("letters", {"0": 0.45, "O": 0.45}, CLASSES),
    "letters: N ties with none, N the first class": ("letters", {"N": 0.4, "none": 0.4}, CLASSES),
    "letters: all of it on T, the rest tie at nothing": ("letters", {"T": 1.0}, CLASSES),
    "letters: the classes in another order": ("letters", {"A": 0.7, "R": 0.2}, CLASSES[::-1]),
    "alphanumeric: a clear 7": ("alphanumeric", {"7": 0.99}, CLASSES),
    "alphanumeric: a clear B": ("alphanumeric", {"B": 0.96}, CLASSES),
    "alphanumeric: a scribble": ("alphanumeric", {"none": 0.5, "1": 0.3}, CLASSES),
    "alphanumeric: O or 0, low confidence": ("alphanumeric", {"O": 0.5, "0": 0.45}, CLASSES),
    "alphanumeric: 0 and O tie, the digit first": ("alphanumeric", {"0": 0.45, "O": 0.45}, CLASSES),
    # What the server's `sources` say in charset digits: each source read in the charset.
    "digits: a letter, not a digit": ("digits", {"A": 0.8}, CLASSES),
    "digits: a scribble, not a character": ("digits", {"none": 0.9}, CLASSES),
}


def reading(r: CharacterReading) -> dict:
    """A reading as the page's answers have it (no class map, no probabilities)."""
    return {
        "character": r.character,
        "index": r.index,
        "confidence": r.confidence,
        "candidates": [{"character": c, "probability": p} for c, p in r.candidates],
        "uncertain": r.uncertain,
        "reason": r.reason,
        "looks_like": r.looks_like,
    }


def digit_case(characters: dict[str, float] | None, digits: dict[str, float]) -> dict:
    p = vector(digits, DIGITS)
    (prediction,) = predictions(p[np.newaxis], np.zeros((1, len(DIGITS), 7, 7)))
    said = None if characters is None else vector(characters)
    check = None if said is None else check_digit(said, CLASSES)
    return {
        "characters": None if said is None else said.tolist(),
        "digits": p.tolist(),
        "check": None if check is None else {**asdict(check), "flagged": check.flagged},
        "reading": reading(digit_reading(prediction, check)),
    }


def charset_case(charset: str, weights: dict[str, float], classes: tuple[str, ...]) -> dict:
    p = vector(weights, classes)
    cam = np.zeros((len(classes), 7, 7))
    return {
        "charset": charset,
        "classes": list(classes),
        "probabilities": p.tolist(),
        "reading": reading(read_character(p, cam, classes, charset)),
    }


def made() -> dict:
    return {
        "classes": list(CLASSES),
        "digits": {name: digit_case(*case) for name, case in DIGIT_CASES.items()},
        "charsets": {name: charset_case(*case) for name, case in CHARSET_CASES.items()},
    }


def test_the_cases_give_every_reason() -> None:
    fixture = made()
    digits = {case["reading"]["reason"] for case in fixture["digits"].values()}
    assert digits == {None, "not_a_digit", "models_disagree", "low_confidence"}
    by_charset: dict[str, set] = {}
    for case in fixture["charsets"].values():
        by_charset.setdefault(case["charset"], set()).add(case["reading"]["reason"])
    assert by_charset == {
        "letters": {None, "low_confidence", "not_a_letter", "not_a_character"},
        "alphanumeric": {None, "low_confidence", "not_a_character"},
        "digits": {"not_a_digit", "not_a_character"},
    }


def test_the_fixture_holds_what_the_python_code_makes() -> None:
    if os.environ.get("RTHDR_WRITE_FIXTURES"):
        FIXTURE.parent.mkdir(exist_ok=True)
        FIXTURE.write_text(json.dumps(made()) + "\n")
    assert json.loads(FIXTURE.read_text()) == made(), (
        "tests/fixtures/characters/readings.json is stale: RTHDR_WRITE_FIXTURES=1 rewrites it"
    )
