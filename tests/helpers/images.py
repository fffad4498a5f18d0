"""Images made for tests: MNIST digits drawn the way people's images look, and numbers written with them."""

from __future__ import annotations

import base64
import io

import cv2
import numpy as np
from PIL import Image


def render(
    digit: np.ndarray,
    size: int = 280,
    dark_on_light: bool = True,
    box: tuple[int, int, int, int] | None = None,
) -> np.ndarray:
    """An MNIST digit drawn the way a person's image looks: scaled up onto a larger page.

    `box` = (x, y, w, h) where the 28x28 digit goes on a size x size page (default: all of it)."""
    x, y, w, h = box or (0, 0, size, size)
    page = np.zeros((size, size), np.uint8)
    page[y : y + h, x : x + w] = np.asarray(Image.fromarray(digit).resize((w, h), Image.BICUBIC))
    return 255 - page if dark_on_light else page


def encode(array_or_image: np.ndarray | Image.Image, fmt: str = "PNG", **params: object) -> bytes:
    image = array_or_image if isinstance(array_or_image, Image.Image) else Image.fromarray(array_or_image)
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def write_number(
    digit_samples: dict[int, np.ndarray], text: str, gaps: list[int] | None = None, height: int = 60
) -> tuple[np.ndarray, list[int]]:
    """Black-on-white page with the digits of `text` side by side; gaps in pixels (negative: overlap).
    Returns the page and each digit's left edge."""
    gaps = gaps if gaps is not None else [12] * (len(text) - 1)
    page = np.zeros((height * 2, height * (len(text) + 2)), np.float32)
    x, lefts = height // 2, []
    for i, char in enumerate(text):
        digit = cv2.resize(digit_samples[int(char)].astype(np.float32), (height, height))
        digit = digit[:, digit.max(axis=0) > 30]  # trim to the ink's columns
        if i:
            x += gaps[i - 1]
        lefts.append(x)
        region = page[height // 2 : height // 2 + height, x : x + digit.shape[1]]
        np.maximum(region, digit, out=region)
        x += digit.shape[1]
    page = page[:, : x + height // 2]
    return (255 - np.clip(page, 0, 255)).astype(np.uint8), lefts


def written_text(text: str, family: str = "Liberation Serif", size: int = 90) -> bytes:
    """`text` in one line, black on white, as a PNG: printed in a font family the character model
    (or the script model) never trained on (rthdr.data.fonts.VALIDATION, SCRIPT_VALIDATION), so
    reading it is a fair test."""
    from PIL import ImageDraw

    from rthdr.data import fonts

    families = fonts.FAMILIES + fonts.SCRIPT_FAMILIES
    (path, *_) = fonts.installed_files(next(f for f in families if f.name == family))
    font = fonts.load(path, size)
    left, top, right, bottom = font.getbbox(text)
    page = Image.new("L", (right - left + 2 * size, bottom - top + size), 255)
    ImageDraw.Draw(page).text((size - left, size // 2 - top), text, font=font, fill=0)
    return encode(page)


def data_url_pixels(url: str) -> np.ndarray:
    """A PNG data URL (an answer's `preprocessed` or heatmap image) -> its grey levels, int16 0-255."""
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("L"), np.int16)
