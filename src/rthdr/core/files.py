"""Reading digits and characters from image files, for the command line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rthdr.core.characters import CharacterReading, read_characters, require_charset
from rthdr.core.charsets import DEFAULT_CHARSET, SCRIPT_CHARSETS
from rthdr.core.decode import InputError
from rthdr.core.inference import DEFAULT_CHARACTER_MODEL, DEFAULT_SCRIPT_MODEL, Classifier, OneDigitCheck
from rthdr.core.pipeline import NumberReading, prepare, read_number


@dataclass
class FileResult:
    path: str
    reading: CharacterReading | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        if self.reading is None:
            return {"file": self.path, "error": self.error}
        r = self.reading
        answer: dict[str, Any] = {"file": self.path, "character": r.character}
        if r.probabilities is not None:  # charset digits
            answer["digit"] = int(r.character)
        answer |= {"confidence": round(r.confidence, 4), "uncertain": r.uncertain, "reason": r.reason}
        if r.looks_like:
            answer["looks_like"] = r.looks_like
        if r.probabilities is not None:
            answer["probabilities"] = [round(float(x), 4) for x in r.probabilities]
        answer["candidates"] = [{"character": c, "probability": round(p, 4)} for c, p in r.candidates]
        return answer

    def describe(self) -> str:
        if self.reading is None:
            return f"{self.path}: error: {self.error}"
        r = self.reading
        why = f"  (uncertain: {r.reason.replace('_', ' ')}" if r.reason else ""
        if why and r.looks_like:
            why += f", looks like {r.looks_like}"
        return f"{self.path}: {r.character}  confidence {100 * r.confidence:.1f} %{why}{')' if why else ''}"


def optional_classifier(
    path: str | Path | None, shipped: Path = DEFAULT_CHARACTER_MODEL
) -> Classifier | None:
    """The model a `--character-model` or `--script-model` flag names: "" the shipped one where it
    exists, "none" none, anything else the file given (which must exist)."""
    if path == "none":
        return None
    if not path:
        return Classifier(shipped) if shipped.is_file() else None
    return Classifier(path)


def charset_reader(charset: str, character_model: str, script_model: str) -> Classifier | None:
    """The model a charset is read by, from the `--character-model` and `--script-model` flags: the
    script model for other scripts' digits, else the character model (for digits: their check)."""
    if charset in SCRIPT_CHARSETS:
        return optional_classifier(script_model, DEFAULT_SCRIPT_MODEL)
    return optional_classifier(character_model)


def predict_files(
    paths: list[str], model: str | Path, charset: str = DEFAULT_CHARSET, characters: Classifier | None = None
) -> list[FileResult]:
    """Each file is decoded and preprocessed on its own; the good ones go to the models as one batch:
    the digit model for charset digits (checked by the character model where given), else
    `characters`: the character model, or the script model for other scripts' digits."""
    require_charset(charset, characters is not None)
    classifier = Classifier(model) if charset == DEFAULT_CHARSET else None
    results = [FileResult(path) for path in paths]
    inputs: list[np.ndarray] = []
    readable: list[FileResult] = []
    for result in results:
        try:
            inputs.append(prepare(Path(result.path).read_bytes()).model_input)
            readable.append(result)
        except InputError as exc:
            result.error = exc.message
        except OSError as exc:
            result.error = f"cannot read the file: {exc.strerror or exc}"
    if inputs:
        batch = np.stack(inputs)
        digit_outputs = classifier.run(batch) if classifier else None
        character_outputs = characters.run(batch) if characters else None
        classes = characters.classes if characters else ()
        readings = read_characters(charset, digit_outputs, character_outputs, classes)
        for result, reading in zip(readable, readings, strict=True):
            result.reading = reading
    return results


@dataclass
class NumberResult:
    path: str
    reading: NumberReading | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        if self.reading is None:
            return {"file": self.path, "error": self.error}
        r = self.reading
        return {
            "file": self.path,
            "text": r.text,
            "uncertain": r.uncertain,
            "digits": [
                {"digit": p.digit, "confidence": round(p.confidence, 4), "box": list(box)}
                for p, box in zip(r.predictions, r.boxes, strict=True)
            ],
        }

    def describe(self) -> str:
        if self.reading is None:
            return f"{self.path}: error: {self.error}"
        r = self.reading
        lowest = min(p.confidence for p in r.predictions)
        flag = "  (uncertain)" if r.uncertain else ""
        return f"{self.path}: {r.text}  ({len(r.text)} digits, lowest confidence {100 * lowest:.1f} %){flag}"


def read_number_files(
    paths: list[str], model: str | Path, one_digit: OneDigitCheck | None = None
) -> list[NumberResult]:
    classifier = Classifier(model)
    results = []
    for path in paths:
        try:
            reading = read_number(Path(path).read_bytes(), classifier, one_digit=one_digit)
            results.append(NumberResult(path, reading))
        except InputError as exc:
            results.append(NumberResult(path, error=exc.message))
        except OSError as exc:
            results.append(NumberResult(path, error=f"cannot read the file: {exc.strerror or exc}"))
    return results
