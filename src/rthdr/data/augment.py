"""Handwriting-like augmentation of one rendered glyph, before the serving preprocessing.

A font glyph is too clean: every "4" of a font is the same "4". Real ink wobbles (elastic
distortion), comes from pens of every width (dilation, erosion), leans (shear) and turns
(rotation), breaks where the pen skipped, crosses a neighbour's stroke, blots, and reaches the
server as a blocky low-resolution scan, a blurred photo or a JPEG. Each step here imitates one of
those, on a float32 canvas in [0, 1], white ink on black (MNIST's polarity), and `augment` chains
them with random strengths. Every step keeps some ink: the sample's label must stay true.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from rthdr.core.preprocess import stroke_width as mean_width

Step = Callable[[np.ndarray, np.random.Generator], np.ndarray]


def width(image: np.ndarray) -> float:
    """The strokes' mean width in pixels (0 for a blank canvas)."""
    return mean_width((image > 0.5).astype(np.uint8))


def at_least_hairline(image: np.ndarray, pixels: float = 2.5) -> np.ndarray:
    """Hairline fonts (Ecolier's cursive) thickened to `pixels`: thinner strokes break apart in
    the warps below and the preprocessing then keeps only a fragment of the glyph."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
    for _ in range(3):  # anti-aliased hairlines are dim: brighten them as well as widen them
        if width(image) >= pixels:
            break
        image = cv2.dilate(np.clip(image * 1.5, 0, 1), kernel)
    return image


def elastic(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Simard et al.'s elastic distortion: a smooth random displacement field, a few pixels."""
    side = image.shape[0]
    alpha, sigma = rng.uniform(0.5, 2.5) * side / 28, side / 8
    dx, dy = (
        cv2.GaussianBlur(rng.uniform(-1, 1, image.shape).astype(np.float32), (0, 0), sigma) for _ in range(2)
    )
    dx *= alpha / (np.abs(dx).max() + 1e-6)
    dy *= alpha / (np.abs(dy).max() + 1e-6)
    x, y = np.meshgrid(np.arange(side, dtype=np.float32), np.arange(side, dtype=np.float32))
    return cv2.remap(image, x + dx, y + dy, cv2.INTER_LINEAR, borderValue=0)


def pen(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A thinner or thicker pen: erosion (never below a hairline) or dilation, by 1-2 pixels."""
    size = int(rng.integers(2, 4))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    if rng.random() < 0.4 and width(image) >= 3:
        thinner = cv2.erode(image, kernel)
        return thinner if thinner.max() > 0.5 and thinner.sum() > 0.35 * image.sum() else image
    return cv2.dilate(image, kernel)


def affine(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Slant (shear up to +-0.4, most writers lean right), rotation up to +-12 degrees, scale."""
    side = image.shape[0]
    shear = float(np.clip(rng.normal(0.08, 0.15), -0.4, 0.4))
    angle = np.deg2rad(rng.uniform(-12, 12))
    scale = rng.uniform(0.8, 1.1)
    cos, sin = np.cos(angle) * scale, np.sin(angle) * scale
    matrix = np.array([[cos, -sin], [sin, cos]]) @ np.array([[1, -shear], [0, 1]])
    centre = np.array([side / 2, side / 2])
    offset = centre - matrix @ centre
    return cv2.warpAffine(image, np.hstack([matrix, offset[:, None]]).astype(np.float32), (side, side))


def _ink_points(image: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    ys, xs = np.nonzero(image > 0.5)
    pick = rng.integers(0, len(xs), count) if len(xs) else np.zeros(0, int)
    return np.stack([xs[pick], ys[pick]], axis=1)


def broken(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Gaps where the pen skipped: a few small discs erased on the stroke."""
    out = image.copy()
    radius = max(1, image.shape[0] // 40)
    for x, y in _ink_points(image, int(rng.integers(1, 4)), rng):
        cv2.circle(out, (int(x), int(y)), int(radius * rng.uniform(1, 2)), 0.0, -1)
    return out if out.sum() > 0.6 * image.sum() else image


def stray(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A short thin stroke from a neighbour, crossing the glyph's edge (fainter than the glyph)."""
    side = image.shape[0]
    out = image.copy()
    start = rng.uniform(0.1, 0.9, 2) * side
    end = start + rng.normal(0, side / 6, 2)
    width = max(1, side // 40)
    cv2.line(out, tuple(start.astype(int)), tuple(end.astype(int)), rng.uniform(0.5, 1.0), width, cv2.LINE_AA)
    return np.maximum(image, out)


def blot(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """An ink blot on the stroke: a small filled ellipse where the pen rested."""
    out = image.copy()
    for x, y in _ink_points(image, 1, rng):
        axes = tuple(int(a) for a in rng.uniform(1, image.shape[0] / 18, 2).round() + 1)
        cv2.ellipse(out, (int(x), int(y)), axes, rng.uniform(0, 180), 0, 360, 1.0, -1, cv2.LINE_AA)
    return out


def blocky(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A low-resolution bitmap, the glyph 12-22 pixels high: shrunk, then enlarged without smoothing."""
    side = image.shape[0]
    small = int(rng.integers(24, 44))  # the glyph spans about half the canvas
    tiny = cv2.resize(image, (small, small), interpolation=cv2.INTER_AREA)
    if rng.random() < 0.5:  # a 1-bit scan
        tiny = (tiny > rng.uniform(0.2, 0.5)).astype(np.float32)
    out = cv2.resize(tiny, (side, side), interpolation=cv2.INTER_NEAREST)
    return out if out.max() > 0.5 else image


def blur(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """An out-of-focus photo: a Gaussian blur of 0.3-0.8 pixels at the model input's scale (the
    glyph spans about half the canvas, and 20 of the model input's 28 pixels)."""
    return cv2.GaussianBlur(image, (0, 0), rng.uniform(0.3, 0.8) * image.shape[0] / 40)


def jpeg(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """JPEG compression at quality 25-70: blocks and ringing round the strokes."""
    quality = int(rng.integers(25, 71))
    ok, data = cv2.imencode(".jpg", (image * 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, quality])
    decoded = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE) if ok else None
    return image if decoded is None else decoded.astype(np.float32) / 255


# Each step with the chance that a sample gets it, in the order ink meets the world: the hand
# (width, slant, wobble), the page (breaks, strays, blots), then the scanner or camera.
STEPS: tuple[tuple[Step, float], ...] = (
    (pen, 0.5),
    (affine, 0.9),
    (elastic, 0.7),
    (broken, 0.2),
    (stray, 0.1),
    (blot, 0.1),
    (blocky, 0.15),
    (blur, 0.25),
    (jpeg, 0.2),
)


def augment(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A glyph through a random chain of STEPS, clipped to [0, 1]."""
    image = at_least_hairline(image)
    for step, chance in STEPS:
        if rng.random() < chance:
            image = step(image, rng)
    return np.clip(image, 0, 1)
