"""Synthetic photos of written numbers, built from MNIST test digits, to measure the number reader.

Each number is rendered the way a phone photo of ink on paper looks: digits of uneven size, gaps
and baselines, a slight slant, now and then two digits touching, grey paper with a shadow, grain,
blur and JPEG compression. Only MNIST *test* digits are used, never training digits.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image


@dataclass(frozen=True)
class NumberImage:
    text: str
    image: bytes  # JPEG
    boxes: list[tuple[int, int, int, int]]  # where each digit was placed (x, y, w, h)


def _place_digits(
    digits: list[np.ndarray], rng: np.random.Generator, touching: float
) -> tuple[np.ndarray, list[tuple[int, int, int, int]], np.ndarray]:
    """Ink layer (bright on black) with the digits side by side, their boxes, and which digit drew
    each pixel (its index, -1 for paper; where two overlap, the darker ink's)."""
    height = int(rng.integers(44, 72))
    margin = height // 2
    layer = np.zeros((height * 2 + 2 * margin, margin * 2 + len(digits) * height * 2), np.float32)
    owner = np.full(layer.shape, -1, np.float32)
    x = margin
    boxes = []
    for index, digit in enumerate(digits):
        size = max(12, round(height * rng.uniform(0.85, 1.15)))
        scaled = cv2.resize(digit.astype(np.float32), (size, size), interpolation=cv2.INTER_CUBIC)
        angle = rng.uniform(-8, 8)
        rotation = cv2.getRotationMatrix2D((size / 2, size / 2), angle, 1.0)
        scaled = cv2.warpAffine(scaled, rotation, (size, size))
        columns = np.flatnonzero(scaled.max(axis=0) > 40)
        rows = np.flatnonzero(scaled.max(axis=1) > 40)
        scaled = scaled[:, columns[0] : columns[-1] + 1]
        if index > 0:
            gap = -0.05 * size if rng.random() < touching else rng.uniform(0.08, 0.5) * size
            x = int(x + gap)
        y = margin + height // 2 + int(rng.uniform(-0.1, 0.1) * height) - size // 2
        h, w = scaled.shape
        region = layer[y : y + h, x : x + w]
        owner[y : y + h, x : x + w][(scaled > region) & (scaled > 20)] = index
        np.maximum(region, scaled, out=region)
        boxes.append((x, y + int(rows[0]), w, int(rows[-1] - rows[0] + 1)))
        x += w
    return np.clip(layer[:, : x + margin] / 255, 0, 1), boxes, owner[:, : x + margin]


def render_number(
    digits: list[np.ndarray], rng: np.random.Generator, touching: float = 0.1
) -> tuple[bytes, list, np.ndarray]:
    """MNIST digits (28x28 uint8, ink bright) -> JPEG bytes of a photo of them written on paper, the
    digits' boxes, and which digit drew each pixel (int16, -1 for paper)."""
    ink, boxes, owner = _place_digits(digits, rng, touching)
    height, width = ink.shape
    slant = rng.uniform(-0.12, 0.12)  # shear: handwriting leans
    shear = np.array([[1, slant, -slant * height / 2], [0, 1, 0]], np.float32)
    ink = cv2.warpAffine(ink, shear, (width, height))
    owner = cv2.warpAffine(owner, shear, (width, height), flags=cv2.INTER_NEAREST, borderValue=-1)
    paper = rng.uniform(170, 245)
    shadow = np.linspace(rng.uniform(0.75, 1.0), 1.0, width, dtype=np.float32)[None, :]
    if rng.random() < 0.5:
        shadow = shadow[:, ::-1]
    pen = rng.uniform(10, 80)
    photo = (paper - (paper - pen) * ink) * shadow
    photo += rng.normal(0, rng.uniform(2, 8), photo.shape)  # grain
    blur = rng.uniform(0, 1.2)
    pixels = np.clip(photo, 0, 255).astype(np.uint8)
    if blur > 0.3:
        pixels = cv2.GaussianBlur(pixels, (0, 0), blur)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=int(rng.integers(50, 92)))
    return buffer.getvalue(), boxes, owner.astype(np.int16)


def make_numbers(
    images: np.ndarray,
    labels: np.ndarray,
    count: int,
    length: int | tuple[int, int],
    seed: int = 0,
    touching: float = 0.1,
) -> list[NumberImage]:
    """`count` numbers of `length` digits (or a random length in the inclusive range)."""
    rng = np.random.default_rng(seed)
    numbers = []
    for _ in range(count):
        n = length if isinstance(length, int) else int(rng.integers(length[0], length[1] + 1))
        chosen = rng.integers(0, len(images), n)
        data, boxes, _ = render_number([images[i] for i in chosen], rng, touching)
        numbers.append(NumberImage("".join(str(int(labels[i])) for i in chosen), data, boxes))
    return numbers
