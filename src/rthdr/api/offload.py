"""/recognize's heavy work in a process of its own, so that a large photo does not stall /predict.

A worker answers every request on one event loop. Decoding a 12-megapixel photo and cutting its
line into characters takes a hundred milliseconds or more, and while it ran on the loop, every
/predict on that worker waited behind it (issue 21: /predict's p99 tripled under such photos). Here
that work runs in a small process pool of the worker's own (RTHDR_RECOGNIZE_PROCESSES, started on
the first /recognize), which holds its own copies of the models; the loop meanwhile answers the
other requests, and runs the batch of digits through the model itself as before. The processes
start with `spawn`: ONNX Runtime's threads do not survive a fork.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from starlette.exceptions import HTTPException

from rthdr.core.charsets import DEFAULT_CHARSET, SCRIPT_CHARSETS
from rthdr.core.inference import Classifier, OneDigitCheck
from rthdr.core.pipeline import PreparedNumber, character_segmentation, prepare_number


@dataclass(frozen=True)
class Models:
    """What cutting a line needs: the digit model's scores (and the one-digit check) for digits, the
    character model's for letters, the script model's for other scripts' digits."""

    digits: Classifier
    characters: Classifier | None
    scripts: Classifier | None
    one_digit: OneDigitCheck | None

    @classmethod
    def load(cls, model: Path, readers: tuple[Path | None, Path | None], one_digit: Path | None) -> Models:
        """`readers`: the character model's file and the script model's, None where there is none."""
        characters, scripts = (Classifier(path) if path else None for path in readers)
        return cls(Classifier(model), characters, scripts, OneDigitCheck(one_digit) if one_digit else None)

    def reader(self, charset: str) -> Classifier | None:
        """The model that reads a charset other than digits."""
        return self.scripts if charset in SCRIPT_CHARSETS else self.characters


def prepare_line(models: Models, image: bytes | np.ndarray, charset: str, max_pixels: int) -> PreparedNumber:
    """The image decoded and cut into the 28x28 inputs of its characters, left to right."""
    if charset == DEFAULT_CHARSET:
        return prepare_number(image, models.digits.segmentation_scores, max_pixels, models.one_digit)
    reader = models.reader(charset)
    assert reader is not None, "the route refuses a charset without its model"
    classify, params = character_segmentation(reader, charset)
    return prepare_number(image, classify, max_pixels, None, params)


_models: Models | None = None  # in a pool process: its own copy, loaded once
# The recognizer processes run at a lower priority: where cores are short, the scheduler gives the
# workers' light requests the CPU first, and a photo takes longer instead of /predict. Measured with
# /predict saturating both cores (rthdr bench, mixed load): at nice 10, /predict's p99 rose 1.4-2.2x
# and a 12-megapixel photo took 1.7 s; at 15, 1.3-1.6x and 3-7 s; at 19, photos passed the 10 s
# time limit. An idle service reads the photo at full speed whatever the niceness.
NICENESS = 15


def _start(model: Path, readers: tuple[Path | None, Path | None], one_digit: Path | None) -> None:
    global _models
    cv2.setNumThreads(1)  # one core per process, as the workers
    os.nice(NICENESS)
    _models = Models.load(model, readers, one_digit)


def _prepare_in_process(image: bytes | np.ndarray, charset: str, max_pixels: int) -> PreparedNumber:
    assert _models is not None
    return prepare_line(_models, image, charset, max_pixels)


class LinePreparer:
    """prepare_line in a process pool (processes > 0), or on the event loop (0)."""

    def __init__(self, models: Models, processes: int) -> None:
        self.models, self.processes = models, processes
        self._pool: ProcessPoolExecutor | None = None

    def _started_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            models = self.models
            readers = (
                models.characters.path if models.characters else None,
                models.scripts.path if models.scripts else None,
            )
            self._pool = ProcessPoolExecutor(
                self.processes,
                multiprocessing.get_context("spawn"),
                initializer=_start,
                initargs=(models.digits.path, readers, models.one_digit.path if models.one_digit else None),
            )
        return self._pool

    async def prepare(self, image: bytes | np.ndarray, charset: str, max_pixels: int) -> PreparedNumber:
        if self.processes == 0:
            return prepare_line(self.models, image, charset, max_pixels)
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(
                self._started_pool(), _prepare_in_process, image, charset, max_pixels
            )
        except BrokenProcessPool:
            # A pool process died (killed, out of memory): this request fails, the next gets a new pool.
            self.close()
            raise HTTPException(503, "The number reader's process stopped; retry the request.") from None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
