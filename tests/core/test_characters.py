"""Reading a character in a charset from the character model's outputs, and telling a digit from what
only looks like one: synthetic probabilities over the real class list, so every answer is known."""

from __future__ import annotations

import string
import unicodedata

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rthdr.core.characters import (
    CANDIDATES,
    NOT_A_DIGIT_ABOVE,
    CharacterReading,
    DigitCheck,
    check_digit,
    digit_reading,
    not_a_digit_scores,
    read_character,
    read_characters,
    require_charset,
)
from rthdr.core.charsets import (
    CHARSETS,
    DEFAULT_CHARSET,
    DIGITS,
    LETTERS,
    NONE,
    SCRIPT_CHARSETS,
    SCRIPT_DIGITS,
    charset_characters,
    class_of,
)
from rthdr.core.errors import InputError
from rthdr.core.inference import UNCERTAIN_BELOW, Prediction

CLASSES: tuple[str, ...] = (*CHARSETS["alphanumeric"], NONE)  # the character model's classes


def class_maps(count: int = len(CLASSES)) -> np.ndarray:
    """(C, 7, 7) maps, class i's map filled with i: which map a reading returns is plain to see."""
    return np.arange(count, dtype=np.float32)[:, np.newaxis, np.newaxis] * np.ones((1, 7, 7), np.float32)


def probabilities(mass: dict[str, float], classes: tuple[str, ...] = CLASSES) -> np.ndarray:
    """A (C,) probability vector: `mass` on the classes named, what is left shared by all the others."""
    vector = np.zeros(len(classes))
    for name, p in mass.items():
        vector[classes.index(name)] = p
    rest = [i for i, name in enumerate(classes) if name not in mass]
    vector[rest] = (1 - sum(mass.values())) / len(rest)
    assert vector.min() >= 0 and vector.sum() == pytest.approx(1)
    return vector


def read(mass: dict[str, float], charset: str) -> CharacterReading:
    return read_character(probabilities(mass), class_maps(), CLASSES, charset)


def assert_map_of(reading: CharacterReading, name: str) -> None:
    assert reading.cam.shape == (7, 7)
    np.testing.assert_array_equal(reading.cam, np.full((7, 7), CLASSES.index(name), np.float32))


# --- charsets -------------------------------------------------------------------------------------


def test_the_charsets_are_digits_letters_and_both() -> None:
    """Digits 0-9; letters: 26 capitals and the 11 lower-case letters EMNIST keeps apart; both: the
    two together, with no character twice. 47 characters and `none` make the model's 48 classes."""
    assert CHARSETS["digits"] == DIGITS == tuple("0123456789")
    assert CHARSETS["letters"] == LETTERS == (*string.ascii_uppercase, *"abdefghnqrt")
    assert CHARSETS["alphanumeric"] == DIGITS + LETTERS
    assert len(set(CHARSETS["alphanumeric"])) == 47 and NONE not in CHARSETS["alphanumeric"]
    assert len(CLASSES) == 48 and DEFAULT_CHARSET == "digits"
    assert set(CHARSETS) == {"digits", "letters", "alphanumeric", "devanagari", "arabic-indic", "persian"}


@pytest.mark.parametrize("charset", ["digits", "letters", "alphanumeric"])
def test_charset_characters_gives_the_charset(charset: str) -> None:
    assert charset_characters(charset) == CHARSETS[charset]


@pytest.mark.parametrize("charset", ["hex", "", "Digits", "none"])
def test_an_unknown_charset_is_the_callers_error_naming_the_choices(charset: str) -> None:
    """InputError unknown_charset (a 422), whose message names what was asked and every valid charset."""
    with pytest.raises(InputError) as raised:
        charset_characters(charset)
    assert raised.value.code == "unknown_charset"
    assert repr(charset) in raised.value.message
    assert all(name in raised.value.message for name in ("digits", "letters", "alphanumeric"))


# --- read_character -------------------------------------------------------------------------------


def test_in_letters_the_best_letter_wins_over_a_likelier_digit() -> None:
    """A drawing the model finds more like a 3 than a B, read as a letter: B, uncertain because it is
    not a letter, looking like the 3; its confidence is B's own probability and its map is B's."""
    reading = read({"3": 0.6, "B": 0.3}, "letters")
    assert (reading.character, reading.index) == ("B", CLASSES.index("B"))
    assert reading.confidence == pytest.approx(0.3)
    assert reading.uncertain and reading.reason == "not_a_letter" and reading.looks_like == "3"
    assert_map_of(reading, "B")
    assert reading.probabilities is None


def test_in_digits_a_likelier_letter_makes_it_not_a_digit() -> None:
    reading = read({"A": 0.6, "4": 0.3}, "digits")
    assert (reading.character, reading.index) == ("4", CLASSES.index("4"))
    assert reading.uncertain and reading.reason == "not_a_digit" and reading.looks_like == "A"
    assert_map_of(reading, "4")


@pytest.mark.parametrize("charset", ["digits", "letters", "alphanumeric"])
def test_when_none_is_likeliest_it_is_not_a_character(charset: str) -> None:
    """`none` on top: not_a_character in every charset, and it looks like nothing."""
    best = {"digits": "7", "letters": "h", "alphanumeric": "h"}[charset]
    reading = read({NONE: 0.6, best: 0.3, "2" if best == "h" else "Q": 0.05}, charset)
    assert reading.character == best and reading.confidence == pytest.approx(0.3)
    assert reading.uncertain and reading.reason == "not_a_character" and reading.looks_like is None
    assert_map_of(reading, best)


@pytest.mark.parametrize("p", [UNCERTAIN_BELOW, 0.97, 0.999])
def test_a_clear_letter_is_sure(p: float) -> None:
    """The best letter on top with at least UNCERTAIN_BELOW: not uncertain, no reason, no look-alike."""
    reading = read({"R": p}, "letters")
    assert reading.character == "R" and reading.confidence == pytest.approx(p)
    assert not reading.uncertain and reading.reason is None and reading.looks_like is None
    assert_map_of(reading, "R")


def test_a_letter_on_top_under_the_threshold_is_low_confidence() -> None:
    reading = read({"R": 0.9, "h": 0.05}, "letters")
    assert reading.character == "R" and reading.confidence < UNCERTAIN_BELOW
    assert reading.uncertain and reading.reason == "low_confidence" and reading.looks_like is None


def test_in_alphanumeric_a_digit_and_a_letter_compete() -> None:
    """Both sets are in the charset: the likelier wins and nothing outside it is likelier."""
    digit = read({"5": 0.97, "S": 0.02}, "alphanumeric")
    assert digit.character == "5" and not digit.uncertain and digit.reason is None
    letter = read({"5": 0.3, "S": 0.6}, "alphanumeric")
    assert letter.character == "S" and letter.reason == "low_confidence" and letter.looks_like is None
    assert [c for c, _ in letter.candidates[:2]] == ["S", "5"]


def test_candidates_are_the_charsets_likeliest_best_first() -> None:
    """The CANDIDATES likeliest of the charset, in descending order: a likelier digit or `none` is
    not among the letters' candidates."""
    mass = {"0": 0.3, NONE: 0.2, "A": 0.1, "b": 0.09, "C": 0.08, "D": 0.07, "E": 0.06, "F": 0.05}
    reading = read(mass, "letters")
    assert CANDIDATES == 5
    assert [c for c, _ in reading.candidates] == ["A", "b", "C", "D", "E"]
    np.testing.assert_allclose([p for _, p in reading.candidates], [0.1, 0.09, 0.08, 0.07, 0.06])
    assert reading.candidates[0] == (reading.character, reading.confidence)
    assert reading.reason == "not_a_letter" and reading.looks_like == "0"


def test_the_confidence_is_the_characters_own_probability_not_renormalised() -> None:
    """Mass outside the charset counts against the answer: 0.5 on the 7 stays 0.5, not 0.5 / 0.55."""
    reading = read({"7": 0.5, "Z": 0.4, "1": 0.05}, "digits")
    assert reading.character == "7" and reading.confidence == pytest.approx(0.5)
    assert isinstance(reading.confidence, float)


def test_the_models_float32_outputs_are_read_too() -> None:
    vector = probabilities({"G": 0.98}).astype(np.float32)
    reading = read_character(vector, class_maps(), CLASSES, "letters")
    assert reading.character == "G" and type(reading.confidence) is float
    assert all(type(p) is float for _, p in reading.candidates)


def test_an_unknown_charset_is_refused_when_reading() -> None:
    with pytest.raises(InputError) as raised:
        read_character(probabilities({"A": 0.9}), class_maps(), CLASSES, "greek")
    assert raised.value.code == "unknown_charset"


@settings(max_examples=200, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    concentration=st.sampled_from([0.02, 0.2, 1.0, 5.0]),
    charset=st.sampled_from(sorted(set(CHARSETS) - SCRIPT_CHARSETS)),  # the scripts: below
)
def test_any_reading_is_the_charsets_best_and_says_why_when_unsure(
    seed: int, concentration: float, charset: str
) -> None:
    """For any probabilities: the answer is the charset's likeliest character with its own probability
    and map; the candidates are the charset's, best first; it is unsure exactly when something outside
    the charset is on top or the confidence is under UNCERTAIN_BELOW."""
    vector = np.random.default_rng(seed).dirichlet(np.full(len(CLASSES), concentration))
    reading = read_character(vector, class_maps(), CLASSES, charset)
    wanted = CHARSETS[charset]
    inside = np.array([vector[CLASSES.index(c)] for c in wanted])
    names = [c for c, _ in reading.candidates]
    scores = [p for _, p in reading.candidates]
    assert len(names) == min(CANDIDATES, len(wanted)) and set(names) <= set(wanted)
    assert len(set(names)) == len(names) and scores == sorted(scores, reverse=True)
    assert scores[0] == reading.confidence == inside.max() == vector[reading.index]
    assert scores[-1] >= np.sort(inside)[-len(names)]  # no likelier character of the charset left out
    assert reading.character == CLASSES[reading.index] and reading.character in wanted
    np.testing.assert_array_equal(reading.cam, np.full((7, 7), reading.index, np.float32))
    top = CLASSES[int(vector.argmax())]
    expected = (
        "not_a_character"
        if top == NONE
        else {"digits": "not_a_digit", "letters": "not_a_letter"}[charset]
        if top not in wanted
        else "low_confidence"
        if reading.confidence < UNCERTAIN_BELOW
        else None
    )
    assert reading.reason == expected and reading.uncertain == (expected is not None)
    assert reading.looks_like == (top if expected in ("not_a_digit", "not_a_letter") else None)


# --- the not-a-digit check ------------------------------------------------------------------------


def test_mostly_a_letter_is_flagged_and_looks_like_it() -> None:
    check = check_digit(probabilities({"3": 0.3, "A": 0.5, NONE: 0.2}), CLASSES)
    assert check.not_a_digit == pytest.approx(0.7) and check.flagged and check.looks_like == "A"


def test_mostly_none_is_flagged_and_looks_like_no_letter() -> None:
    """Flagged, but `none` beats every letter: there is no letter it looks like."""
    check = check_digit(probabilities({"3": 0.3, "A": 0.2, NONE: 0.5}), CLASSES)
    assert check.not_a_digit == pytest.approx(0.7) and check.flagged and check.looks_like is None


def test_a_clear_digit_is_not_flagged_but_names_the_letter_beating_none() -> None:
    check = check_digit(probabilities({"3": 0.9, "q": 0.06, NONE: 0.04}), CLASSES)
    assert check.not_a_digit == pytest.approx(0.1) and not check.flagged and check.looks_like == "q"


def test_the_flag_is_strictly_above_the_threshold() -> None:
    """Half the mass on digits (NOT_A_DIGIT_ABOVE = 0.5) is not flagged; a little less is."""
    assert NOT_A_DIGIT_ABOVE == 0.5
    vector = np.zeros(len(CLASSES))
    vector[CLASSES.index("3")] = vector[CLASSES.index("A")] = 0.5
    at = check_digit(vector, CLASSES)
    assert at.not_a_digit == 0.5 and not at.flagged and at.looks_like == "A"
    vector[CLASSES.index("3")], vector[CLASSES.index("A")] = 0.49, 0.51
    assert check_digit(vector, CLASSES).flagged
    assert DigitCheck(NOT_A_DIGIT_ABOVE + 1e-9, None, "0").flagged and not DigitCheck(0.0, "A", "0").flagged


def test_a_letter_tied_with_none_is_no_look_alike() -> None:
    vector = np.zeros(len(CLASSES))
    vector[CLASSES.index("K")] = vector[CLASSES.index(NONE)] = 0.5
    assert check_digit(vector, CLASSES).looks_like is None


def test_not_a_digit_scores_are_the_mass_outside_the_digits_clipped() -> None:
    """(N, C) -> (N,) of 1 - the digits' mass, kept in [0, 1] when rounding pushes the sum past 1."""
    past_one = np.zeros(len(CLASSES))
    past_one[[CLASSES.index("0"), CLASSES.index("9")]] = 0.4, 0.6 + 1e-6
    rows = np.stack(
        [probabilities({"8": 0.7, "B": 0.2, NONE: 0.1}), probabilities({"X": 0.6, NONE: 0.4}), past_one]
    )
    scores = not_a_digit_scores(rows, CLASSES)
    assert scores.shape == (3,)
    np.testing.assert_allclose(scores[:2], [0.3, 1.0], atol=1e-9)
    assert scores[2] == 0.0  # digits' mass 1 + 1e-6: clipped, not negative


# --- digit_reading --------------------------------------------------------------------------------


def digit_prediction(digit: int, confidence: float) -> Prediction:
    """The digit model's answer `digit` with `confidence`, the rest shared unevenly by the others."""
    others = [d for d in range(10) if d != digit]
    weights = np.arange(1, 10, dtype=np.float64)
    p = np.zeros(10)
    p[others] = (1 - confidence) * weights / weights.sum()
    p[digit] = confidence
    cam = np.full((7, 7), digit + 100.0, np.float32)
    return Prediction(digit, confidence, p, cam)


def test_a_confident_digit_checked_as_a_digit_is_sure() -> None:
    """Character str(digit), its index, the digit model's ten probabilities and map kept; candidates
    the five likeliest digits best first; no reason and no look-alike, even if the check names one."""
    prediction = digit_prediction(6, 0.98)
    reading = digit_reading(prediction, DigitCheck(0.2, "G", "6"))
    assert (reading.character, reading.index, reading.confidence) == ("6", 6, 0.98)
    assert not reading.uncertain and reading.reason is None and reading.looks_like is None
    assert reading.probabilities is prediction.probabilities and reading.cam is prediction.cam
    assert [c for c, _ in reading.candidates] == ["6", "9", "8", "7", "5"]
    expected = [float(prediction.probabilities[int(c)]) for c, _ in reading.candidates]
    assert [p for _, p in reading.candidates] == expected == sorted(expected, reverse=True)


@pytest.mark.parametrize("confidence", [0.99, 0.6])
def test_a_flagged_check_makes_it_not_a_digit(confidence: float) -> None:
    """A flagged check wins over everything, low confidence included, and names the look-alike."""
    reading = digit_reading(digit_prediction(0, confidence), DigitCheck(0.8, "O", "0"))
    assert reading.character == "0" and reading.confidence == confidence
    assert reading.uncertain and reading.reason == "not_a_digit" and reading.looks_like == "O"


def test_a_flagged_check_without_a_letter_has_no_look_alike() -> None:
    reading = digit_reading(digit_prediction(1, 0.99), DigitCheck(0.9, None, "7"))
    assert reading.reason == "not_a_digit" and reading.looks_like is None


@pytest.mark.parametrize("check", [None, DigitCheck(0.1, "Z", "2")])
def test_an_unsure_digit_not_flagged_is_low_confidence(check: DigitCheck | None) -> None:
    prediction = digit_prediction(2, 0.8)
    assert prediction.uncertain
    reading = digit_reading(prediction, check)
    assert reading.uncertain and reading.reason == "low_confidence" and reading.looks_like is None


def test_a_confident_digit_the_character_model_reads_otherwise_is_uncertain() -> None:
    """The European 1 the digit model reads as a 7: the character model's other digit flags it and
    is named; a flagged not-a-digit check still comes first."""
    reading = digit_reading(digit_prediction(7, 0.99), DigitCheck(0.1, None, "1"))
    assert reading.character == "7" and reading.uncertain
    assert reading.reason == "models_disagree" and reading.looks_like == "1"
    assert digit_reading(digit_prediction(7, 0.99), DigitCheck(0.9, "T", "1")).reason == "not_a_digit"


def test_the_check_names_the_character_models_likeliest_digit() -> None:
    check = check_digit(probabilities({"1": 0.5, "7": 0.3, "T": 0.2}), CLASSES)
    assert check.digit == "1" and not check.flagged


def test_without_a_check_a_confident_digit_is_sure() -> None:
    reading = digit_reading(digit_prediction(9, UNCERTAIN_BELOW), None)
    assert reading.character == "9" and not reading.uncertain and reading.reason is None


# --- require_charset and read_characters ----------------------------------------------------------


@pytest.mark.parametrize("charset", ["letters", "alphanumeric"])
def test_a_charset_needing_the_character_model_is_unavailable_without_it(charset: str) -> None:
    with pytest.raises(InputError) as raised:
        require_charset(charset, False)
    assert raised.value.code == "charset_unavailable"
    assert f"charset={charset}" in raised.value.message and "charset=digits" in raised.value.message
    require_charset(charset, True)  # with it: fine


@pytest.mark.parametrize("have_character_model", [False, True])
def test_digits_need_no_character_model(have_character_model: bool) -> None:
    assert require_charset("digits", have_character_model) is None


@pytest.mark.parametrize("have_character_model", [False, True])
def test_an_unknown_charset_is_refused_before_anything_else(have_character_model: bool) -> None:
    with pytest.raises(InputError) as raised:
        require_charset("klingon", have_character_model)
    assert raised.value.code == "unknown_charset"


def digit_outputs() -> tuple[np.ndarray, np.ndarray]:
    """The digit model's outputs for two images: a clear 4 and a clear 1, maps filled with digit + 100."""
    first, second = digit_prediction(4, 0.99), digit_prediction(1, 0.97)
    return np.stack([first.probabilities, second.probabilities]), 100 + class_maps(10)[np.newaxis].repeat(
        2, 0
    )


def character_outputs() -> tuple[np.ndarray, np.ndarray]:
    """The character model's for the same two: a 4, and an I (not a digit, though the digit model saw 1)."""
    rows = np.stack([probabilities({"4": 0.96, "A": 0.02}), probabilities({"I": 0.8, "1": 0.15})])
    return rows, class_maps()[np.newaxis].repeat(2, 0)


def test_digits_without_the_character_model_are_the_digit_models_answers() -> None:
    readings = read_characters("digits", digit_outputs(), None, CLASSES)
    assert [r.character for r in readings] == ["4", "1"]
    assert [r.reason for r in readings] == [None, None]
    probabilities_, _ = digit_outputs()
    for reading, row, digit in zip(readings, probabilities_, (4, 1), strict=True):
        np.testing.assert_array_equal(reading.probabilities, row)
        np.testing.assert_array_equal(reading.cam, np.full((7, 7), digit + 100, np.float32))


def test_digits_with_the_character_model_are_checked_by_it() -> None:
    """The second image the digit model reads as a clear 1 is flagged: the character model sees an I."""
    readings = read_characters("digits", digit_outputs(), character_outputs(), CLASSES)
    assert [r.character for r in readings] == ["4", "1"]
    assert [(r.reason, r.looks_like) for r in readings] == [(None, None), ("not_a_digit", "I")]
    assert readings[1].confidence == pytest.approx(0.97)  # the digit model's confidence, not charnet's
    assert all(r.probabilities is not None and r.probabilities.shape == (10,) for r in readings)


def test_alphanumeric_is_read_by_the_character_model_alone() -> None:
    outputs = character_outputs()
    readings = read_characters("alphanumeric", None, outputs, CLASSES)
    assert [r.character for r in readings] == ["4", "I"]
    assert [r.reason for r in readings] == [None, "low_confidence"]
    for reading, p, cam in zip(readings, *outputs, strict=True):
        one = read_character(p, cam, CLASSES, "alphanumeric")
        assert (reading.character, reading.confidence, reading.candidates) == (
            one.character,
            one.confidence,
            one.candidates,
        )
        np.testing.assert_array_equal(reading.cam, one.cam)
        assert reading.probabilities is None
    letters = read_characters("letters", digit_outputs(), outputs, CLASSES)
    assert [(r.character, r.reason, r.looks_like) for r in letters] == [
        ("A", "not_a_letter", "4"),
        ("I", "low_confidence", None),
    ]


def test_a_charset_needing_the_character_model_is_refused_without_its_outputs() -> None:
    with pytest.raises(InputError) as raised:
        read_characters("letters", digit_outputs(), None, CLASSES)
    assert raised.value.code == "charset_unavailable"
    with pytest.raises(InputError) as raised:
        read_characters("base64", digit_outputs(), character_outputs(), CLASSES)
    assert raised.value.code == "unknown_charset"


# --- other scripts' digits (the script model) ------------------------------------------------------

SCRIPT_CLASSES: tuple[str, ...] = (*SCRIPT_DIGITS, NONE)  # the script model's classes


@pytest.mark.parametrize("charset", sorted(SCRIPT_CHARSETS))
def test_each_script_charset_is_its_digits_zero_to_nine(charset: str) -> None:
    """Ten characters whose Unicode digit values are 0-9, each with a class of the script model."""
    characters = charset_characters(charset)
    assert [unicodedata.digit(c) for c in characters] == list(range(10))
    assert all(class_of(c) in SCRIPT_CLASSES for c in characters)


def test_persian_shares_the_arabic_indic_shapes_except_four_five_six() -> None:
    shared = [p for p in CHARSETS["persian"] if class_of(p) != p]
    assert [unicodedata.digit(p) for p in shared] == [0, 1, 2, 3, 7, 8, 9]
    assert all(unicodedata.name(class_of(p)).startswith("ARABIC-INDIC DIGIT") for p in shared)
    assert len(SCRIPT_CLASSES) == 10 + 10 + 3 + 1 and len(set(SCRIPT_CLASSES)) == len(SCRIPT_CLASSES)


def read_script(mass: dict[str, float], charset: str) -> CharacterReading:
    return read_character(
        probabilities(mass, SCRIPT_CLASSES), class_maps(len(SCRIPT_CLASSES)), SCRIPT_CLASSES, charset
    )


def test_a_script_is_read_as_if_the_others_were_not_there() -> None:
    """A circle that the model splits between the Arabic-Indic five and the Devanagari zero is, in
    arabic-indic, a sure five: the other script's mass is dropped, not counted against it."""
    mass = {"٥": 0.6, "०": 0.38}
    reading = read_script(mass, "arabic-indic")
    assert reading.character == "٥" and not reading.uncertain
    rest = (1 - sum(mass.values())) / (len(SCRIPT_CLASSES) - 2)  # what every other class holds
    assert reading.confidence == pytest.approx(0.6 / (0.6 + 10 * rest))  # its nine others, and none
    devanagari = read_script(mass, "devanagari")
    assert devanagari.character == "०" and devanagari.confidence == pytest.approx(0.38 / (0.38 + 10 * rest))
    assert sum(p for _, p in reading.candidates) < 1


def test_persian_answers_with_its_own_code_points_and_its_own_maps() -> None:
    shared = read_script({"٣": 0.99}, "persian")
    assert shared.character == "۳" and shared.candidates[0] == ("۳", pytest.approx(shared.confidence))
    assert all(c in CHARSETS["persian"] for c, _ in shared.candidates)
    np.testing.assert_array_equal(shared.cam, np.full((7, 7), SCRIPT_CLASSES.index("٣"), np.float32))
    own = read_script({"۴": 0.99}, "persian")
    assert own.character == "۴" and not own.uncertain
    # the Arabic-Indic four is not a Persian digit: its mass is dropped, and what is left is unsure
    other_four = read_script({"٤": 0.9}, "persian")
    assert other_four.uncertain and other_four.confidence == pytest.approx(1 / 11)


def test_a_scribble_in_a_script_is_not_a_character() -> None:
    reading = read_script({NONE: 0.7, "७": 0.2}, "devanagari")
    assert (reading.character, reading.reason, reading.looks_like) == ("७", "not_a_character", None)


@pytest.mark.parametrize("charset", sorted(SCRIPT_CHARSETS))
def test_a_script_charset_needs_the_script_model(charset: str) -> None:
    with pytest.raises(InputError) as raised:
        require_charset(charset, False)
    assert raised.value.code == "charset_unavailable" and "RTHDR_SCRIPT_MODEL" in raised.value.message
    require_charset(charset, True)
