"""Image files -> rows, through the same pipeline as `rthdr predict` and the API.

A `Reader` owns the ONNX Runtime sessions (one thread each: a job scales by running one reader per
core, in processes or Ray actors, not by threads that contend for the same cores). It is built from
a `ReaderConfig`, which is small and picklable, in each worker process or actor; the sessions
themselves never cross a process boundary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from rthdr.batch.rows import Row
from rthdr.core.characters import CharacterReading, read_characters, require_charset
from rthdr.core.charsets import DEFAULT_CHARSET
from rthdr.core.errors import InputError
from rthdr.core.files import charset_reader
from rthdr.core.inference import DEFAULT_MODEL, Classifier, OneDigitCheck, Prediction
from rthdr.core.pipeline import NumberReading, prepare, read_number


@dataclass(frozen=True)
class ReaderConfig:
    """What a worker needs to build its reader. `one_digit` is a --one-digit value ("" the shipped
    check, "none" no check, else a file) and is used with `multi` only. A charset other than digits
    is read by the character model (or the script model), as `rthdr predict --charset` reads it;
    digits by the digit model alone."""

    model: str = str(DEFAULT_MODEL)
    multi: bool = False
    one_digit: str = ""
    charset: str = DEFAULT_CHARSET
    character_model: str = ""  # as --character-model: "" the shipped one
    script_model: str = ""


def round4(value: float) -> float:
    """Confidences as `rthdr predict --json` gives them: four decimals are plenty for a person and
    keep the CSV short; `uncertain` is decided before rounding."""
    return round(float(value), 4)


def failure(path: str, exc: Exception) -> Row:
    """The row of a file that could not be read: its error code and what to do. Any exception
    becomes a row (code `failed` when it is not an InputError or OSError), so that one odd file
    never stops a job over millions; the message says what went wrong."""
    if isinstance(exc, InputError):
        return Row(path, error=exc.code, message=exc.message)
    if isinstance(exc, FileNotFoundError):
        return Row(path, error="not_found", message="No such file: check the path or the manifest.")
    if isinstance(exc, OSError):
        return Row(path, error="unreadable", message=f"Cannot read the file: {exc.strerror or exc}.")
    return Row(path, error="failed", message=f"{type(exc).__name__}: {exc}")


class Reader:
    def __init__(self, config: ReaderConfig) -> None:
        cv2.setNumThreads(1)  # OpenCV's own thread pool would contend with the other workers
        self.config = config
        self.characters = None
        if config.charset != DEFAULT_CHARSET:
            self.characters = charset_reader(config.charset, config.character_model, config.script_model)
            require_charset(config.charset, self.characters is not None)
        self.classifier = self.characters or Classifier(config.model, threads=1)
        self.one_digit = OneDigitCheck.from_flag(config.one_digit) if config.multi else None
        self.model, self.version = self.classifier.name, self.classifier.version

    def read(self, paths: Sequence[str]) -> list[Row]:
        """One row per path, in order. Single digits go to the model as one batch (one ONNX call
        for the lot, as rthdr.core.files.predict_files does); numbers one image at a time, since
        segmentation calls the model itself."""
        return self._numbers(paths) if self.config.multi else self._digits(paths)

    def _digits(self, paths: Sequence[str]) -> list[Row]:
        rows: list[Row | None] = []
        inputs: list[np.ndarray] = []
        for path in paths:
            try:
                inputs.append(prepare(Path(path).read_bytes()).model_input)
                rows.append(None)  # filled in below, once the batch has run
            except Exception as exc:
                rows.append(failure(path, exc))
        readings = iter(self._readings(np.stack(inputs)) if inputs else [])
        return [row or self._digit_row(path, next(readings)) for path, row in zip(paths, rows, strict=True)]

    def _readings(self, inputs: np.ndarray) -> Sequence[Prediction | CharacterReading]:
        """The digit model's predictions, or with another charset the character model's readings."""
        if self.characters is None:
            return self.classifier.predict(inputs)
        return read_characters(
            self.config.charset, None, self.characters.run(inputs), self.characters.classes
        )

    def _digit_row(self, path: str, r: Prediction | CharacterReading) -> Row:
        reading = str(r.digit) if isinstance(r, Prediction) else r.character
        return Row(path, reading, round4(r.confidence), r.uncertain, None, self.model, self.version)

    def _numbers(self, paths: Sequence[str]) -> list[Row]:
        rows = []
        for path in paths:
            try:
                reading = read_number(Path(path).read_bytes(), self.classifier, one_digit=self.one_digit)
                rows.append(self._number_row(path, reading))
            except Exception as exc:
                rows.append(failure(path, exc))
        return rows

    def _number_row(self, path: str, r: NumberReading) -> Row:
        confidences = [round4(p.confidence) for p in r.predictions]
        return Row(path, r.text, min(confidences), r.uncertain, confidences, self.model, self.version)
