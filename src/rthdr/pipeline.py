"""image -> model input, timed: the one path every caller (API, CLI, evaluation) takes."""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass

import cv2
import numpy as np

from rthdr.decode import DEFAULT_MAX_PIXELS, InputError, decode_image
from rthdr.preprocess import from_pixels, preprocess


@dataclass(frozen=True)
class Prepared:
    model_input: np.ndarray  # (28, 28) float32 in [0, 1]
    decode_ms: float
    preprocess_ms: float


def prepare_image(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> Prepared:
    start = time.perf_counter()
    decoded = decode_image(data, max_pixels)
    decoded_at = time.perf_counter()
    model_input = preprocess(decoded.grey)
    done = time.perf_counter()
    return Prepared(model_input, (decoded_at - start) * 1000, (done - decoded_at) * 1000)


def prepare_pixels(pixels: np.ndarray) -> Prepared:
    start = time.perf_counter()
    model_input = from_pixels(pixels)
    return Prepared(model_input, 0.0, (time.perf_counter() - start) * 1000)


def prepare(image: bytes | np.ndarray, max_pixels: int = DEFAULT_MAX_PIXELS) -> Prepared:
    """Image file bytes, or a 28x28 pixel array (0 = background), -> the model input."""
    return prepare_pixels(image) if isinstance(image, np.ndarray) else prepare_image(image, max_pixels)


def decode_data_url(url: str) -> bytes:
    """'data:image/png;base64,....' (what canvas.toDataURL gives) or bare base64 -> bytes."""
    header, _, payload = url.partition(",") if url.startswith("data:") else ("", "", url)
    if header and ";base64" not in header:
        raise InputError("invalid_data_url", "The data URL must be base64-encoded (data:image/png;base64,...).")
    try:
        return base64.b64decode(payload, validate=True)
    except ValueError as exc:
        raise InputError("invalid_base64", f"The image is not valid base64: {exc}") from exc


def png_data_url(image: np.ndarray) -> str:
    """A float image in [0, 1] (or uint8) as a PNG data URL, for showing what the model saw."""
    pixels = image if image.dtype == np.uint8 else np.clip(image * 255 + 0.5, 0, 255).astype(np.uint8)
    ok, encoded = cv2.imencode(".png", pixels)
    assert ok, "PNG encoding of a small uint8 array cannot fail"
    return "data:image/png;base64," + base64.b64encode(encoded.tobytes()).decode("ascii")
