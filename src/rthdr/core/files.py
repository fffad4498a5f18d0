"""Reading digits from image files, for the command line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rthdr.core.decode import InputError
from rthdr.core.inference import Classifier, OneDigitCheck, Prediction
from rthdr.core.pipeline import NumberReading, prepare, read_number


@dataclass
class FileResult:
    path: str
    prediction: Prediction | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        if self.prediction is None:
            return {"file": self.path, "error": self.error}
        p = self.prediction
        return {
            "file": self.path,
            "digit": p.digit,
            "confidence": round(p.confidence, 4),
            "uncertain": p.uncertain,
            "probabilities": [round(float(x), 4) for x in p.probabilities],
        }

    def describe(self) -> str:
        if self.prediction is None:
            return f"{self.path}: error: {self.error}"
        p = self.prediction
        flag = "  (uncertain)" if p.uncertain else ""
        return f"{self.path}: {p.digit}  confidence {100 * p.confidence:.1f} %{flag}"


def predict_files(paths: list[str], model: str | Path) -> list[FileResult]:
    """Each file is decoded and preprocessed on its own; the good ones go to the model as one batch."""
    classifier = Classifier(model)
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
        for result, prediction in zip(readable, classifier.predict(np.stack(inputs)), strict=True):
            result.prediction = prediction
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
