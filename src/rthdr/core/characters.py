"""Reading a character in a charset from the character model's probabilities, and the check that
tells a digit from what only looks like one.

The character model (charnet) has one class per character of every charset, plus `none`. A charset
is a subset of its classes: the answer is the likeliest character of the subset, and its confidence
is that character's own probability, so that mass on `none` or on characters outside the charset
counts against it. The answer is uncertain, and says why, when something outside the charset is
likelier than everything in it (`not_a_digit`, `not_a_letter`, `not_a_character`) or when the
confidence is under UNCERTAIN_BELOW (`low_confidence`).

The other scripts' digits are read by the script model (scriptnet). There the script is the caller's
choice, so its probabilities are renormalised over the charset's classes and `none`: a Devanagari
zero does not count against the Arabic-Indic five it looks like.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rthdr.core.charsets import (
    DEFAULT_CHARSET,
    DIGITS,
    LETTERS,
    NONE,
    SCRIPT_CHARSETS,
    charset_characters,
    class_of,
)
from rthdr.core.errors import InputError
from rthdr.core.inference import UNCERTAIN_BELOW, Prediction, predictions

Outputs = tuple[np.ndarray, np.ndarray]  # a batch's probabilities (N, C) and class maps (N, C, 7, 7)
NO_CHARACTER_MODEL = "there is no character model (charnet: the service's RTHDR_CHARACTER_MODEL) for"
NO_SCRIPT_MODEL = "there is no script model (scriptnet: the service's RTHDR_SCRIPT_MODEL) for"

CANDIDATES = 5  # the likeliest characters an answer lists
# In digits mode, the share of the character model's probability outside the digits above which a
# drawing is answered "not a digit". Set on validation (held-out font families, MNIST's validation
# digits) so that about 1 % of digits are flagged; the model card gives the measured rates.
NOT_A_DIGIT_ABOVE = 0.5
# Where a drawing comes with its pen strokes, that check reads the strokes too: the character model's
# probabilities fused with the character stroke model's (rthdr.core.inference.fuse) at this picture
# weight. Chosen on the training side, the held-out 1/12 of the corpus charnet was trained on,
# traced, and MNIST's validation digits, traced: of 1, 0.95, 0.9, 0.75, 0.5, 0.25 and 0, the lowest
# weight that flags at most 1 % of the digits in both (0.96 % and 0.34 %; at 0.75, 1.05 %). Pen-drawn
# letters from held-out families flagged: 60.6 % -> 63.8 % (scripts/pen-not-a-digit.py).
CHECK_IMAGE_WEIGHT = 0.9


@dataclass(frozen=True)
class CharacterReading:
    character: str
    index: int  # the character's class index in the model's output
    confidence: float
    candidates: list[tuple[str, float]]  # the charset's likeliest characters, best first
    uncertain: bool
    reason: (
        str | None
    )  # None when sure; else not_a_digit, not_a_letter, not_a_character, models_disagree or low_confidence
    looks_like: str | None  # the likelier character outside the charset, where one is
    cam: np.ndarray  # (7, 7) class activation map of the character, for its heatmap
    probabilities: np.ndarray | None  # charset digits: the digit model's ten; else None


def outside_reason(charset: str) -> str:
    """Why an answer is uncertain when a character outside its charset fits better."""
    return {"digits": "not_a_digit", "letters": "not_a_letter"}[charset]


def read_character(
    probabilities: np.ndarray, cam: np.ndarray, classes: tuple[str, ...], charset: str
) -> CharacterReading:
    """One image's (C,) character-model (or script-model) probabilities and (C, 7, 7) maps -> the
    reading in `charset`."""
    characters = charset_characters(charset)
    wanted = [classes.index(class_of(c)) for c in characters]
    character_of = dict(zip(wanted, characters, strict=True))  # Persian's shared shapes: its code points
    if charset in SCRIPT_CHARSETS:
        kept = np.zeros_like(probabilities)
        for i in [*wanted, classes.index(NONE)]:
            kept[i] = probabilities[i]
        probabilities = kept / max(float(kept.sum()), 1e-12)
    order = sorted(wanted, key=lambda i: -probabilities[i])
    best, top = order[0], int(probabilities.argmax())
    confidence = float(probabilities[best])
    candidates = [(character_of[i], float(probabilities[i])) for i in order[:CANDIDATES]]
    reason, looks_like = None, None
    if classes[top] == NONE:
        reason = "not_a_character"
    elif top not in wanted:
        reason, looks_like = outside_reason(charset), classes[top]
    elif confidence < UNCERTAIN_BELOW:
        reason = "low_confidence"
    return CharacterReading(
        character_of[best],
        best,
        confidence,
        candidates,
        reason is not None,
        reason,
        looks_like,
        cam[best],
        None,
    )


@dataclass(frozen=True)
class DigitCheck:
    """What the character model says of a drawing the digit model read: is it a digit at all?"""

    not_a_digit: float  # the character model's probability outside the digits
    looks_like: str | None  # its likeliest letter, where a letter is likelier than `none`
    digit: str  # its likeliest digit

    @property
    def flagged(self) -> bool:
        return self.not_a_digit > NOT_A_DIGIT_ABOVE


def digit_reading(prediction: Prediction, check: DigitCheck | None) -> CharacterReading:
    """The digit model's answer as a reading in charset digits, flagged `not_a_digit` where the
    character model's check (None: no character model) finds it is none, and `models_disagree`
    (looks_like: the character model's digit) where it reads another digit."""
    order = np.argsort(-prediction.probabilities, kind="stable")[:CANDIDATES]  # ties: the lower digit first
    candidates = [(str(i), float(prediction.probabilities[i])) for i in order]
    reason, looks_like, digit = None, None, prediction.digit
    if check is not None and check.flagged:
        reason, looks_like = "not_a_digit", check.looks_like
    elif check is not None and check.digit != str(digit):
        # Rarely wrong together: on held-out font digits this catches 82 % of the digit model's
        # errors (the European 1 read as 7, the open 4 as 1) for 0.5 % of MNIST's answers flagged.
        reason, looks_like = "models_disagree", check.digit
    elif prediction.uncertain:
        reason = "low_confidence"
    return CharacterReading(
        str(digit),
        digit,
        prediction.confidence,
        candidates,
        reason is not None,
        reason,
        looks_like,
        prediction.cam,
        prediction.probabilities,
    )


def not_a_digit_scores(probabilities: np.ndarray, classes: tuple[str, ...]) -> np.ndarray:
    """(N, C) character-model probabilities -> (N,) probability of anything but a digit."""
    digits = [classes.index(d) for d in DIGITS]
    return np.clip(1 - probabilities[:, digits].sum(axis=1), 0, 1)


def check_digit(probabilities: np.ndarray, classes: tuple[str, ...]) -> DigitCheck:
    """One image's (C,) character-model probabilities -> the not-a-digit check."""
    letters = [classes.index(c) for c in LETTERS]
    letter = letters[int(probabilities[letters].argmax())]
    likelier = probabilities[letter] > probabilities[classes.index(NONE)]
    score = float(not_a_digit_scores(probabilities[np.newaxis], classes)[0])
    digit = DIGITS[int(probabilities[[classes.index(d) for d in DIGITS]].argmax())]
    return DigitCheck(score, classes[letter] if likelier else None, digit)


def require_charset(charset: str, have_reader: bool) -> None:
    """InputError (a 422 in the API) for an unknown charset, or one whose model (the character
    model, or the script model for other scripts' digits) there is none of: said before any image
    is read."""
    charset_characters(charset)
    if charset != DEFAULT_CHARSET and not have_reader:
        missing = NO_SCRIPT_MODEL if charset in SCRIPT_CHARSETS else NO_CHARACTER_MODEL
        raise InputError("charset_unavailable", f"{missing} charset={charset}; use charset=digits.")


def read_characters(
    charset: str, digit_outputs: Outputs | None, character_outputs: Outputs | None, classes: tuple[str, ...]
) -> list[CharacterReading]:
    """A batch's readings in `charset`, from the models' outputs (probabilities, class maps): in
    digits, the digit model's answers checked by the character model where there is one (`classes`
    are its class names); in the other charsets, the character model's (the script model's for other
    scripts' digits). Raises InputError for an unknown charset or one whose model it was not given."""
    require_charset(charset, character_outputs is not None)
    if charset == DEFAULT_CHARSET:
        assert digit_outputs is not None, "charset digits is read by the digit model"
        checks: list[DigitCheck | None] = [None] * len(digit_outputs[0])
        if character_outputs is not None:
            checks = [check_digit(p, classes) for p in character_outputs[0]]
        return [digit_reading(p, c) for p, c in zip(predictions(*digit_outputs), checks, strict=True)]
    assert character_outputs is not None
    return [read_character(p, c, classes, charset) for p, c in zip(*character_outputs, strict=True)]
